"""What people wrote in the demo's history (in French, as in a département's files)."""

from __future__ import annotations

NOT_NOW_REASONS = (
    "Placement récent : l'enfant a d'abord besoin de stabilité ; à revoir l'an prochain.",
    "Suivi thérapeutique en cours, un mentorat ferait trop d'adultes autour de l'enfant.",
    "L'enfant ne se sent pas prêt ; on en reparle à la prochaine évaluation.",
    "Préparation d'un retour en famille : le projet sera revu après.",
)
NOT_APPLICABLE_REASONS = (
    "L'enfant est déjà accompagné par un parrain bénévole de longue date.",
    "Accompagnement éducatif renforcé déjà en place, qui répond aux mêmes besoins.",
)
AGREED_OPINIONS = (
    "Contente d'avoir quelqu'un pour l'aider à trouver un stage.",
    "D'accord, surtout pour l'aide aux devoirs.",
    "Veut bien essayer, si c'est le mercredi.",
    "Partant pour découvrir des métiers.",
)
REFUSED_OPINIONS = (
    "Ne souhaite pas de nouvel adulte dans sa vie pour l'instant.",
    "Préfère garder ses mercredis pour le foot.",
    "Pas intéressé pour le moment.",
)
DECLINE_REASONS = (
    "Horaires incompatibles avec l'internat.",
    "Le jeune préfère être accompagné par une femme.",
    "Le mentor ne se sent pas à l'aise avec cet objectif.",
    "Trop loin sans voiture.",
)
PAUSE_NOTES = (
    "Période d'examens.",
    "Hospitalisation du mentor.",
    "Changement de foyer, reprise après installation.",
    "Vacances d'été.",
)
END_NOTES = {
    "completed": "Objectifs atteints : fin d'un commun accord.",
    "child_choice": "Le jeune a souhaité arrêter.",
    "mentor_unavailable": "Le mentor a déménagé.",
    "placement_change": "Changement de lieu de placement.",
    "age_limit": "Fin de la prise en charge à 21 ans.",
    "other": "Fin décidée en synthèse.",
}
OBJECTIVE_TITLES = {
    "orientation": "Choisir une orientation après la 3e",
    "stage": "Trouver un stage d'observation",
    "alternance": "Trouver une entreprise pour l'alternance",
    "apprentissage": "Décrocher un contrat d'apprentissage",
    "emploi": "Préparer un CV et un entretien",
    "numerique": "Faire ses démarches en ligne seul",
    "scolarite": "Reprendre confiance en maths",
    "confiance": "Oser prendre la parole en classe",
}
