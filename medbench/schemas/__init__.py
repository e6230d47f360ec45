"""Data contracts: row models and the HF features / Arrow schemas derived from them."""

from medbench.schemas.vgmed import VGMED_ARROW_SCHEMA, VGMED_FEATURES, ClinicianReview, VGMEDRow

__all__ = ["VGMED_ARROW_SCHEMA", "VGMED_FEATURES", "ClinicianReview", "VGMEDRow"]
