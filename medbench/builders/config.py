"""The base of the pydantic build configs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class BuildConfigModel(BaseModel):
    """A builder's options: unknown fields are errors; ``public_dict`` is what the manifest
    records."""

    model_config = ConfigDict(extra="forbid")

    def public_dict(self) -> dict:
        """The config as recorded in the manifest (JSON values; paths as given, no secrets)."""
        return self.model_dump(mode="json")
