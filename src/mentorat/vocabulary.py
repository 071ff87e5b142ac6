"""Fixed, versioned vocabularies shared by children and mentors.

Bit positions are part of the contract: goals and languages are packed into integer bitmasks
for vectorised matching, so a code's index in its tuple never changes within a version.
Append new codes at the end and bump the version.
"""

from __future__ import annotations

from dataclasses import dataclass

GOALS_VERSION = "2026.1"


@dataclass(frozen=True, slots=True)
class Goal:
    code: str
    kind: str  # "support" or "domain"
    label: str


GOALS: tuple[Goal, ...] = (
    Goal("orientation", "support", "Orientation scolaire et professionnelle"),
    Goal("stage", "support", "Trouver un stage"),
    Goal("alternance", "support", "Trouver une alternance"),
    Goal("apprentissage", "support", "Trouver un apprentissage"),
    Goal("emploi", "support", "Trouver un emploi"),
    Goal("numerique", "support", "Outils numériques et accès aux droits en ligne"),
    Goal("scolarite", "support", "Soutien à la scolarité"),
    Goal("confiance", "support", "Confiance en soi et autonomie"),
    Goal("rome-A", "domain", "Agriculture et pêche, espaces naturels et verts, soins aux animaux"),
    Goal("rome-B", "domain", "Arts et façonnage d'ouvrages d'art"),
    Goal("rome-C", "domain", "Banque, assurance, immobilier"),
    Goal("rome-D", "domain", "Commerce, vente et grande distribution"),
    Goal("rome-E", "domain", "Communication, média et multimédia"),
    Goal("rome-F", "domain", "Construction, bâtiment et travaux publics"),
    Goal("rome-G", "domain", "Hôtellerie-restauration, tourisme, loisirs et animation"),
    Goal("rome-H", "domain", "Industrie"),
    Goal("rome-I", "domain", "Installation et maintenance"),
    Goal("rome-J", "domain", "Santé"),
    Goal("rome-K", "domain", "Services à la personne et à la collectivité"),
    Goal("rome-L", "domain", "Spectacle"),
    Goal("rome-M", "domain", "Support à l'entreprise"),
    Goal("rome-N", "domain", "Transport et logistique"),
)
GOAL_CODES: tuple[str, ...] = tuple(goal.code for goal in GOALS)
GOAL_BIT: dict[str, int] = {code: index for index, code in enumerate(GOAL_CODES)}

# ISO 639-1 codes of the languages most spoken by children in care and by volunteers in France.
LANGUAGES: tuple[str, ...] = (
    "fr", "en", "ar", "es", "pt", "de", "it", "tr", "ro", "ru", "uk", "pl", "zh", "vi",
    "ta", "bn", "ur", "fa", "ps", "ku", "am", "ti", "so", "sw", "wo", "ff", "bm", "ln",
    "sq", "hy", "ka", "sr", "nl", "ber", "km", "lo", "ht", "rcf", "gcf", "sgn",
)  # fmt: skip
LANGUAGE_BIT: dict[str, int] = {code: index for index, code in enumerate(LANGUAGES)}

GENDERS: tuple[str, ...] = ("female", "male", "other")

# Weekly availability: 7 days (Monday = 0) x 48 half-hour slots = 336 slots, packed with
# numpy.packbits order (slot s is bit 7 - s % 8 of byte s // 8) into 42 bytes.
SLOTS_PER_DAY = 48
DAYS_PER_WEEK = 7
SLOTS_PER_WEEK = SLOTS_PER_DAY * DAYS_PER_WEEK
AVAILABILITY_BYTES = SLOTS_PER_WEEK // 8


def goals_to_mask(codes: list[str] | tuple[str, ...]) -> int:
    mask = 0
    for code in codes:
        mask |= 1 << GOAL_BIT[code]
    return mask


def mask_to_goals(mask: int) -> list[str]:
    return [code for index, code in enumerate(GOAL_CODES) if mask >> index & 1]


def languages_to_mask(codes: list[str] | tuple[str, ...]) -> int:
    mask = 0
    for code in codes:
        mask |= 1 << LANGUAGE_BIT[code]
    return mask
