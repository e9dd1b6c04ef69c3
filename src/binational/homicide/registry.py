"""The best-practice registry: vocabularies, bilingual search keys, and the seed programmes.

Search is over one text column of folded, stemmed words of both languages (Snowball English
and Spanish stemmers, the ones Lucene and PostgreSQL use), queried with word-prefix ``LIKE``:
accent- and case-insensitive, "homicidios" finds "homicidio", "violence" finds "violencia"
(their stems share the prefix "violenc"), on SQLite and PostgreSQL alike without a
full-text extension. The registry is small (hundreds of programmes), so a scan is cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import snowballstemmer
from normality import normalize

from binational.core.errors import InvalidInput
from binational.core.vocab import check_choice

RATINGS: dict[str, tuple[str, str]] = {
    "effective": ("Effective", "Efectivo"),
    "promising": ("Promising", "Prometedor"),
    "no-effects": ("No effects", "Sin efectos"),
}
TARGETS: dict[str, tuple[str, str]] = {
    "place": ("Place", "Lugar"),
    "group": ("Group", "Grupo"),
    "person": ("Person", "Persona"),
}
NOTE_KINDS = ("comment", "result")
OUTCOMES = ("improved", "no-change", "worsened", "mixed")
LANGS = ("en", "es")
WORD = re.compile(r"\w+", re.UNICODE)
MIN_WORD = 2


@cache
def _stemmer(lang: str) -> Any:
    return snowballstemmer.stemmer({"en": "english", "es": "spanish"}[lang])


def fold(text: str) -> str:
    return normalize(text, ascii=True, lowercase=True) or ""


def words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if len(w) >= MIN_WORD]


def keys(text: str, lang: str) -> set[str]:
    """Search keys of a text: each word folded, and its stem in the text's language."""
    out: set[str] = set()
    stem = _stemmer(lang)
    for w in words(text):
        out.add(fold(w))
        out.add(fold(stem.stemWord(w)))
    return {k for k in out if k}


def query_terms(q: str) -> list[set[str]]:
    """For each query word, the prefixes any of which must start a key: the folded word and
    its English and Spanish stems (the searcher's language is not assumed)."""
    terms: list[set[str]] = []
    for w in words(q):
        alternatives = {fold(w), fold(_stemmer("en").stemWord(w)),
                        fold(_stemmer("es").stemWord(w))}
        terms.append({a for a in alternatives if len(a) >= MIN_WORD})
    return [t for t in terms if t]


@dataclass(frozen=True)
class Programme:
    name_en: str
    name_es: str
    summary_en: str
    summary_es: str
    rating: str
    target: str
    jurisdictions: tuple[str, ...] = ()
    costs_en: str | None = None
    costs_es: str | None = None
    contact: str | None = None
    links: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_choice(self.rating, RATINGS, "evidence rating")
        check_choice(self.target, TARGETS, "target")
        for name in ("name_en", "name_es", "summary_en", "summary_es"):
            if not getattr(self, name).strip():
                raise InvalidInput(f"a programme needs {name} (both languages)")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Programme:
        kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                  for k, v in data.items()}
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise InvalidInput(f"invalid programme: {exc}") from None

    def search_text(self) -> str:
        found = (keys(self.name_en, "en") | keys(self.summary_en, "en")
                 | keys(self.costs_en or "", "en") | keys(self.name_es, "es")
                 | keys(self.summary_es, "es") | keys(self.costs_es or "", "es")
                 | keys(" ".join(self.jurisdictions), "es") | keys(self.target, "en"))
        return " " + " ".join(sorted(found)) + " "


# Seed: well-known programmes, described in our own words. The ratings are the registry
# editors' reading of the published evaluations (CrimeSolutions-style), for the demo.
SEED: tuple[Programme, ...] = (
    Programme(
        "Cure Violence (violence interruption)",
        "Cure Violence (interrupción de la violencia)",
        "Treats shootings like an epidemic: trusted community members work as violence "
        "interrupters and outreach workers who detect brewing conflicts, mediate before "
        "retaliation, and steer the people at highest risk towards services, while the "
        "neighbourhood is mobilised to reject gun violence.",
        "Aborda los tiroteos como una epidemia: personas de confianza de la comunidad actúan "
        "como interruptores de violencia y trabajadores de calle que detectan conflictos, "
        "median antes de la venganza y acercan a quienes corren más riesgo a servicios, "
        "mientras el barrio se moviliza para rechazar la violencia armada.",
        "promising", "group", ("Chicago, IL", "Baltimore, MD", "New York, NY"),
        "Mostly staff: outreach workers and interrupters recruited locally, with training "
        "and supervision.",
        "Principalmente personal: trabajadores de calle e interruptores contratados en la "
        "comunidad, con capacitación y supervisión.",
        "Cure Violence Global", ("https://cvg.org",)),
    Programme(
        "Focused deterrence (Group Violence Intervention)",
        "Disuasión focalizada (Intervención en Violencia de Grupos)",
        "Police, prosecutors, community leaders and service providers meet the small groups "
        "driving most homicides face to face: a clear message that the next killing will "
        "bring swift consequences to the whole group, a moral voice from the community, and "
        "a genuine offer of help to those who want out.",
        "Policía, fiscales, líderes comunitarios y prestadores de servicios se reúnen cara a "
        "cara con los pequeños grupos que concentran la mayoría de los homicidios: un mensaje "
        "claro de que el próximo asesinato traerá consecuencias rápidas para todo el grupo, "
        "la voz moral de la comunidad y una oferta real de ayuda para quien quiera salir.",
        "effective", "group", ("Boston, MA", "Oakland, CA", "Cincinnati, OH"),
        "Coordination staff and analysts; services offered to group members; no new "
        "enforcement capacity needed.",
        "Personal de coordinación y análisis; servicios ofrecidos a los integrantes de los "
        "grupos; no requiere nueva capacidad policial.",
        "National Network for Safe Communities", ("https://nnscommunities.org",)),
    Programme(
        "Hospital-based violence intervention",
        "Intervención contra la violencia desde el hospital",
        "Reaches victims of violent injury at the bedside, when they are most open to change: "
        "trained violence-prevention specialists offer case management, mental-health "
        "support and help with housing, school or work to cut retaliation and re-injury.",
        "Llega a las víctimas de lesiones violentas en la cama del hospital, cuando están más "
        "abiertas al cambio: especialistas en prevención ofrecen acompañamiento, atención de "
        "salud mental y apoyo con vivienda, escuela o empleo para reducir la venganza y la "
        "reincidencia de lesiones.",
        "promising", "person", ("Oakland, CA", "Baltimore, MD", "Richmond, VA"),
        "Specialists embedded in trauma centres; in the United States often partly covered "
        "by health insurance.",
        "Especialistas integrados en los centros de trauma; en Estados Unidos a menudo "
        "cubiertos en parte por los seguros de salud.",
        "Health Alliance for Violence Intervention", ("https://www.thehavi.org",)),
    Programme(
        "Hot-spots policing", "Vigilancia policial en puntos críticos",
        "Concentrates patrol and problem-solving on the few street segments and corners "
        "where much of the violence happens; evaluations find crime falls in the targeted "
        "places without simply moving around the corner.",
        "Concentra el patrullaje y la solución de problemas en los pocos segmentos de calle y "
        "esquinas donde ocurre gran parte de la violencia; las evaluaciones muestran que el "
        "delito baja en los lugares atendidos sin simplemente desplazarse a la vuelta de la "
        "esquina.",
        "effective", "place", ("Minneapolis, MN", "Philadelphia, PA", "Bogotá"),
        "Redeploys existing patrol time; needs crime mapping and analysts.",
        "Reasigna tiempo de patrullaje existente; requiere mapeo delictivo y analistas.",
        "Center for Evidence-Based Crime Policy, George Mason University", ()),
    Programme(
        "Cardiff Model for violence prevention", "Modelo Cardiff de prevención de la violencia",
        "Emergency departments share anonymised data on where, when and how people were "
        "injured with the police and the city, which together target the places and venues "
        "that the police records miss.",
        "Los servicios de urgencias comparten con la policía y la ciudad datos anonimizados "
        "sobre dónde, cuándo y cómo se lesionaron las personas, y juntos atienden los lugares "
        "y establecimientos que los registros policiales no ven.",
        "promising", "place", ("Cardiff", "Atlanta, GA", "Milwaukee, WI"),
        "A data analyst and a few minutes of triage time per patient.",
        "Un analista de datos y unos minutos de triaje por paciente.",
        "Violence Research Group, Cardiff University", ()),
    Programme(
        "Urban upgrading and cable-car transit (Medellín)",
        "Urbanismo social y metrocable (Medellín)",
        "Public transit, libraries, parks and lighting built in isolated hillside "
        "neighbourhoods; a study comparing them with similar neighbourhoods found homicides "
        "fell faster where the investments were made.",
        "Transporte público, bibliotecas, parques y alumbrado construidos en barrios "
        "aislados de ladera; un estudio que los comparó con barrios similares encontró que "
        "los homicidios bajaron más rápido donde se hicieron las inversiones.",
        "promising", "place", ("Medellín",),
        "Large capital works; justified by transport and social aims as well as safety.",
        "Grandes obras de inversión; se justifican también por sus fines de transporte y "
        "sociales, no solo de seguridad.",
        "Empresa de Desarrollo Urbano de Medellín", ()),
    Programme(
        "Scared Straight", "Scared Straight (disuasión por miedo)",
        "Takes young people at risk on visits to prisons where inmates confront them about "
        "the consequences of crime. Systematic reviews find no deterrence; if anything, "
        "participants offend more: listed as a warning.",
        "Lleva a jóvenes en riesgo a visitar prisiones donde los internos los confrontan con "
        "las consecuencias del delito. Las revisiones sistemáticas no encuentran efecto "
        "disuasivo; si acaso, los participantes delinquen más: se incluye como advertencia.",
        "no-effects", "person", ("New Jersey",),
        "Cheap to run, which is why it persists; the harm is the cost.",
        "Barato de operar, por eso persiste; el daño es el costo.",
        None, ()),
)
