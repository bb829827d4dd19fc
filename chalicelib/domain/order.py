"""The order as the pipeline sees it: validated, immutable input to every phase."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

HEX_COLOR = r"^#[0-9A-Fa-f]{6}$"
LOCALES = ("pt-BR", "en")


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40)
    whatsapp: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=120)


class Brand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    primary_color: str = Field(default="#1F4E79", pattern=HEX_COLOR)
    secondary_color: str = Field(default="#F2A900", pattern=HEX_COLOR)


class OrderData(BaseModel):
    """Everything a phase may know about the order."""

    model_config = ConfigDict(frozen=True)

    id: str
    business_name: str
    segment: str
    description: str | None = None
    services: list[str] = Field(default_factory=list)
    contact: Contact = Field(default_factory=Contact)
    brand: Brand = Field(default_factory=Brand)
    locale: str = "pt-BR"
