"""The privacy settings value, apart from the service so the access cache can hold it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    anonymize_ip: bool = True
    respect_dnt: bool = True
    bot_filtering: bool = True
    consent_required: bool = False
    allowed_consent_modes: tuple[str, ...] = ("analytics",)
    blocked_user_agents: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        values = asdict(self)
        return {**values, "allowed_consent_modes": list(self.allowed_consent_modes),
                "blocked_user_agents": list(self.blocked_user_agents)}


DEFAULTS = PrivacySettings()
FIELDS = tuple(DEFAULTS.as_dict())


def from_row(row) -> PrivacySettings:
    if row is None:
        return DEFAULTS
    return PrivacySettings(row.anonymize_ip, row.respect_dnt, row.bot_filtering, row.consent_required,
                           tuple(row.allowed_consent_modes), tuple(row.blocked_user_agents))
