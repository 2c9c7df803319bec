"""Small synthetic studies for the conformance suite: nothing in, {file name: DICOM bytes} written by pydicom out.

One patient (DOE^JANE, PAT-1) with study 1 (series A: CT A1-A3; series B: MR B1) and, on request, study 2
(series C: C1). The files refer to each other the way real series do: A2 -> A1 and A3 -> A1, A2 by
ReferencedImageSequence, A3 -> A1 by SourceImageSequence, A1 -> series B and B1 by ReferencedSeriesSequence
(whose item also holds a nested PatientName, StudyDescription and private block), a FrameOfReferenceUID per
series, OtherPatientIDsSequence with a nested PatientID, and a top-level private block "ACME 1.0".
UIDs are fixed, so every run builds the same bytes.
"""

from __future__ import annotations

import io

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from dcmrules.runtime.synth import make_item

ROOT = "1.2.826.0.1.3680043.8.498.4711."
CT, MR = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"
CREATOR = "ACME 1.0"


def uid(*parts: int) -> str:
    return ROOT + ".".join(str(p) for p in parts)


STUDY1, STUDY2 = uid(1), uid(2)
SERIES_A, SERIES_B, SERIES_C = uid(1, 1), uid(1, 2), uid(2, 1)
A1, A2, A3, B1, C1 = uid(1, 1, 1), uid(1, 1, 2), uid(1, 1, 3), uid(1, 2, 1), uid(2, 1, 1)


def study_files(*, second_study: bool = False) -> dict[str, bytes]:
    """The synthetic files by name (A1.dcm ... B1.dcm, and C1.dcm with the second study)."""
    files = {
        "A1.dcm": _instance(STUDY1, SERIES_A, A1, CT, "CT", 1, _series_reference()),
        "A2.dcm": _instance(STUDY1, SERIES_A, A2, CT, "CT", 2, _images(A1)),
        "A3.dcm": _instance(STUDY1, SERIES_A, A3, CT, "CT", 3, _images(A1, A2), _source(A1)),
        "B1.dcm": _instance(STUDY1, SERIES_B, B1, MR, "MR", 1),
    }
    if second_study:
        files["C1.dcm"] = _instance(STUDY2, SERIES_C, C1, CT, "CT", 1)
    return {name: _bytes(ds) for name, ds in files.items()}


def _instance(study: str, series: str, sop: str, sop_class: str, modality: str, number: int,
              *extras: Dataset) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop
    ds.StudyDate, ds.StudyTime, ds.SeriesDate, ds.ContentDate = "20200102", "101010", "20200102", "20200102"
    ds.AccessionNumber = "ACC-" + study[-1]
    ds.Modality = modality
    ds.InstitutionName = "General Hospital"
    ds.ReferringPhysicianName = "HOUSE^GREGORY"
    ds.StationName = "CT01"
    ds.StudyDescription = "Study " + study[-1]
    ds.SeriesDescription = "Series " + series[-3:]
    ds.OperatorsName = "OPERATOR^ONE"
    ds.PatientName, ds.PatientID = "DOE^JANE", "PAT-1"
    ds.PatientBirthDate, ds.PatientSex, ds.PatientAge = "19700101", "F", "050Y"
    ds.OtherPatientIDsSequence = Sequence([make_item(PatientID="OLD-1", IssuerOfPatientID="OLDHOSP")])
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "S" + study[-1], series[-1], str(number)
    ds.FrameOfReferenceUID = series + ".9"
    ds.ImageComments = f"comment {sop[-5:]}"
    block = ds.private_block(0x0009, CREATOR, create=True)
    block.add_new(0x01, "LO", "top secret")
    block.add_new(0x02, "LO", "top other")
    for extra in extras:
        ds.update(extra)
    return ds


def _images(*sops: str) -> Dataset:
    return make_item(ReferencedImageSequence=Sequence(
        [make_item(ReferencedSOPClassUID=CT, ReferencedSOPInstanceUID=sop) for sop in sops]))


def _source(*sops: str) -> Dataset:
    return make_item(SourceImageSequence=Sequence(
        [make_item(ReferencedSOPClassUID=CT, ReferencedSOPInstanceUID=sop) for sop in sops]))


def _series_reference() -> Dataset:
    instance = make_item(ReferencedSOPClassUID=MR, ReferencedSOPInstanceUID=B1)
    item = make_item(SeriesInstanceUID=SERIES_B, StudyInstanceUID=STUDY1, PatientName="DOE^JANE",
                     StudyDescription="Study 1", StudyDate="20200102",
                     ReferencedInstanceSequence=Sequence([instance]))
    item.private_block(0x0029, CREATOR, create=True).add_new(0x10, "LO", "nested secret")
    return make_item(ReferencedSeriesSequence=Sequence([item]))


def _bytes(ds: Dataset) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = ROOT + "0"
    ds.file_meta = meta
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()
