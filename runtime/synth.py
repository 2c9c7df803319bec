"""A synthetic DICOM set generator: a SynthSpec and a folder in, deterministic pydicom-written files out.

patients x studies x series x instances images (CT 512x512 16-bit, or small header-heavy images), with
cross-file references: ReferencedImageSequence (previous instance), SourceImageSequence (first series),
ReferencedSeriesSequence, a FrameOfReferenceUID per study, and one RT-structure-set-like file per study
whose ReferencedFrameOfReferenceSequence > RTReferencedStudySequence > RTReferencedSeriesSequence >
ContourImageSequence chain points at the study, the first series and its images. Patient data is also
copied where de-identification tends to miss it: OtherPatientIDsSequence, a nested PatientName and a
private block ("ACME 1.0"). The same spec gives the same bytes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
RT_STRUCT = "1.2.840.10008.5.1.4.1.1.481.3"
STUDY_COMPONENT = "1.2.840.10008.3.1.2.3.1"
UID_ROOT = "1.2.826.0.1.3680043.8.498."
IMPLEMENTATION_UID = UID_ROOT + "1"
CREATOR = "ACME 1.0"
NAMES = ("SMITH^JOHN", "DOE^JANE", "MÜLLER^ANNA", "GARCIA^LUIS", "NGUYEN^MAI", "OKAFOR^CHIDI", "SATO^KEN")


@dataclass(frozen=True)
class SynthSpec:
    """What to generate: counts per level, image kind ('ct' or 'small'), seed, RT file per study, encoding."""

    patients: int = 2
    studies: int = 2
    series: int = 2
    instances: int = 3
    kind: str = "small"
    seed: int = 0
    rtstruct: bool = True
    implicit_vr: bool = False
    private_elements: int = 200


@dataclass(frozen=True)
class _Place:
    spec: SynthSpec
    patient: int
    study: int = 0
    series: int = 0
    instance: int = 0

    def uid(self, level: str, series: int | None = None, instance: int | None = None) -> str:
        parts = {"patient": (self.patient,), "study": (self.patient, self.study),
                 "series": (self.patient, self.study, self.series if series is None else series),
                 "instance": (self.patient, self.study, self.series if series is None else series,
                              self.instance if instance is None else instance),
                 "frame": (self.patient, self.study), "rt": (self.patient, self.study)}[level]
        source = f"dcmrules-synth:{self.spec.seed}:{level}:" + ".".join(map(str, parts))
        return str(generate_uid(prefix=UID_ROOT, entropy_srcs=[source]))


def generate(folder: str | Path, spec: SynthSpec = SynthSpec()) -> list[Path]:
    """Write the set described by spec under folder (P001/ST01/SE01/IM0001.dcm ...); return the paths written."""
    folder = Path(folder)
    written: list[Path] = []
    for patient in range(1, spec.patients + 1):
        for study in range(1, spec.studies + 1):
            study_dir = folder / f"P{patient:03d}" / f"ST{study:02d}"
            for series in range(1, spec.series + 1):
                for instance in range(1, spec.instances + 1):
                    place = _Place(spec, patient, study, series, instance)
                    path = study_dir / f"SE{series:02d}" / f"IM{instance:04d}.dcm"
                    written.append(_save(image(place), path, spec))
            if spec.rtstruct:
                written.append(_save(structure_set(_Place(spec, patient, study)), study_dir / "RTSTRUCT.dcm", spec))
    return written


def _save(ds: Dataset, path: Path, spec: SynthSpec) -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if spec.implicit_vr else ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    ds.file_meta = meta
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _common(place: _Place, sop_class: str, sop_instance: str) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.StudyDate = f"20{10 + place.study:02d}0{1 + place.patient % 9}15"
    ds.StudyTime = "101500"
    ds.AccessionNumber = f"ACC{place.spec.seed:02d}{place.patient:03d}{place.study:02d}"
    ds.ReferringPhysicianName = "WELBY^MARCUS"
    ds.StudyDescription = "CT CHEST"
    ds.OperatorsName = "TECH^TOM"
    ds.PatientName = NAMES[(place.patient + place.spec.seed) % len(NAMES)] + str(place.patient)
    ds.PatientID = f"PID-{place.spec.seed}-{place.patient:05d}"
    ds.PatientBirthDate = f"19{50 + place.patient % 40:02d}0704"
    ds.PatientSex = "FM"[place.patient % 2]
    ds.PatientAddress = f"{place.patient} Elm Street"
    ds.OtherPatientIDsSequence = Sequence([make_item(PatientID=f"MRN{place.patient:07d}", TypeOfPatientID="TEXT")])
    ds.StudyInstanceUID = place.uid("study")
    ds.StudyID = f"S{place.study}"
    ds.FrameOfReferenceUID = place.uid("frame")
    return ds


def make_item(**elements: object) -> Dataset:
    """A sequence item (or any data set) with the given keyword=value elements."""
    item = Dataset()
    for keyword, value in elements.items():
        setattr(item, keyword, value)
    return item


def image(place: _Place) -> Dataset:
    """Return one image of the set with its references to other images."""
    ds = _common(place, CT_IMAGE, place.uid("instance"))
    ds.Modality = "CT"
    ds.SeriesInstanceUID = place.uid("series")
    ds.SeriesNumber = place.series
    ds.InstanceNumber = place.instance
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [0, 0, place.instance * 2.5]
    _add_references(ds, place)
    _add_private(ds, place)
    _add_pixels(ds, place)
    return ds


def _reference(uid: str) -> Dataset:
    return make_item(ReferencedSOPClassUID=CT_IMAGE, ReferencedSOPInstanceUID=uid)


def _add_references(ds: Dataset, place: _Place) -> None:
    if place.instance > 1:
        ds.ReferencedImageSequence = Sequence([_reference(place.uid("instance", instance=place.instance - 1))])
    if place.series > 1:
        ds.SourceImageSequence = Sequence([_reference(place.uid("instance", series=1))])
        first = make_item(SeriesInstanceUID=place.uid("series", series=1), PatientName=ds.PatientName,
                      ReferencedInstanceSequence=Sequence([_reference(place.uid("instance", series=1, instance=1))]))
        ds.ReferencedSeriesSequence = Sequence([first])


def _add_private(ds: Dataset, place: _Place) -> None:
    block = ds.private_block(0x0009, CREATOR, create=True)
    block.add_new(0x01, "LO", ds.PatientID)
    block.add_new(0x02, "UI", ds.StudyInstanceUID)
    if place.spec.kind != "small":
        return
    rng = random.Random(f"{place.spec.seed}:{place.patient}:{place.study}:{place.series}:{place.instance}")
    for number in range(place.spec.private_elements):
        group = 0x0011 + 2 * (number // 250)
        tag = (group << 16) | 0x1000 | (number % 250 + 0x06)
        if number % 250 == 0:
            ds.add_new((group << 16) | 0x0010, "LO", "ACME HEADER")
        ds.add_new(tag, ("LO", "DS", "US", "SH")[number % 4], _private_value(rng, number))
    ds.add_new(0x00091003, "SQ", Sequence([make_item(PatientName=ds.PatientName, StudyInstanceUID=ds.StudyInstanceUID,
                                                 InstanceNumber=i) for i in range(8)]))


def _private_value(rng: random.Random, number: int) -> object:
    kind = number % 4
    if kind == 0:
        return f"value {rng.randrange(10**6)}"
    if kind == 1:
        return f"{rng.random() * 100:.4f}"
    if kind == 2:
        return rng.randrange(65536)
    return f"S{rng.randrange(10**4)}"


def _add_pixels(ds: Dataset, place: _Place) -> None:
    size = 512 if place.spec.kind == "ct" else 16
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    rng = random.Random(f"pixels:{place.spec.seed}:{place.patient}:{place.study}:{place.series}:{place.instance}")
    ds.PixelData = rng.randbytes(size * size * 2)


def structure_set(place: _Place) -> Dataset:
    """Return the RT-structure-set-like file of a study, referencing the study, its first series and images."""
    ds = _common(place, RT_STRUCT, place.uid("rt"))
    ds.Modality = "RTSTRUCT"
    ds.SeriesInstanceUID = place.uid("series", series=0)
    ds.SeriesNumber = 99
    ds.InstanceNumber = 1
    ds.StructureSetLabel = "BODY"
    images = [_reference(place.uid("instance", series=1, instance=i)) for i in range(1, place.spec.instances + 1)]
    series = make_item(SeriesInstanceUID=place.uid("series", series=1), ContourImageSequence=Sequence(images))
    study = make_item(ReferencedSOPClassUID=STUDY_COMPONENT, ReferencedSOPInstanceUID=place.uid("study"),
                  RTReferencedSeriesSequence=Sequence([series]))
    frame = make_item(FrameOfReferenceUID=place.uid("frame"), RTReferencedStudySequence=Sequence([study]))
    ds.ReferencedFrameOfReferenceSequence = Sequence([frame])
    roi = make_item(ROINumber=1, ReferencedFrameOfReferenceUID=place.uid("frame"), ROIName="BODY",
                ROIGenerationAlgorithm="MANUAL")
    ds.StructureSetROISequence = Sequence([roi])
    return ds
