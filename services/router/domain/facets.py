"""Names of the facets agents are indexed under: languages and (language, skill, level) triples."""

from __future__ import annotations

from functools import lru_cache

# Facet of every agent whatever its languages (contacts whose language is undetermined search it).
ANY_LANGUAGE = "*"
# Skill names and language tags share the key space of the ready buckets; the prefix keeps them apart.
SKILL_PREFIX = "skill:"
# Proficiency levels run 1..5 (agent.proto); higher levels are filed as 5.
MAX_PROFICIENCY = 5


@lru_cache(maxsize=1 << 16)
def skill_facet(language: str, skill: str, level: int) -> str:
    """The facet of agents speaking `language` (or any, with ANY_LANGUAGE) who have `skill` at `level`."""
    return f"{language}|{SKILL_PREFIX}{skill}|{level}"


@lru_cache(maxsize=1 << 16)
def level_facets(languages: tuple[str, ...], skill: str, minimum: int) -> tuple[tuple[str, ...], ...]:
    """For each level from the best down to `minimum`, the facets of speakers of `languages` at that level.
    Cached: every contact computes them on arrival and at each relaxation step, and the combinations repeat."""
    return tuple(
        tuple(skill_facet(language, skill, level) for language in languages)
        for level in range(MAX_PROFICIENCY, minimum - 1, -1)
    )
