"""Response schemas of the rendered-label routes."""

from pydantic import BaseModel, ConfigDict, Field

from tarroitus.services.labels.layout import LabelPreset


class LabelSizePublic(BaseModel):
    """A label in millimetres."""

    model_config = ConfigDict(from_attributes=True)

    width_mm: float = Field(description="Along the text line")
    height_mm: float = Field(description="Across the text line")
    text_height_mm: float = Field(description="Capital height of the text at its largest")


class LabelPresetPublic(BaseModel):
    """Named label stock: the label for books and the one for CDs (material code 3)."""

    model_config = ConfigDict(from_attributes=True)

    name: str = Field(examples=["brother-ql-29"])
    description: str
    book: LabelSizePublic
    cd: LabelSizePublic


class LabelPresetsPublic(BaseModel):
    """The label sizes `GET /items/{item_id}/label?size=` accepts."""

    default: str
    min_text_height_mm: float = Field(description="Text is shrunk to fit down to this capital height, no further")
    data: list[LabelPresetPublic]

    @classmethod
    def of(cls, presets: list[LabelPreset], *, default: str, min_text_height_mm: float) -> "LabelPresetsPublic":
        """The public view of the presets."""
        data = [LabelPresetPublic.model_validate(preset) for preset in presets]
        return cls(default=default, min_text_height_mm=min_text_height_mm, data=data)
