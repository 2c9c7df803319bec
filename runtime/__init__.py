"""The dcmrules runtime: plans in, edited DICOM files and reports out."""
