"""Seeded synthetic person records with Hispanic names, and known duplicates, for benchmarks.

Every person is fictional: names are drawn from lists of common Mexican given names and
surnames, dates and places at random. A share of the records are corrupted copies of others
(the way agency records of one person differ): a typo, accents dropped, the paternal or the
maternal surname left out, the second given name left out, the date of birth off by a digit or
missing, the phone missing. The copy keeps the entity number in its id
(``p<entity>-<copy>``), so the true pairs are known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


GIVEN = _words("José María Juan Guadalupe Francisco Antonio Jesús Alejandro Miguel Pedro Luis "
               "Manuel Ana Carlos Rosa Jorge Fernando Ricardo Margarita Raúl Elena Javier Roberto "
               "Patricia Sergio Teresa Arturo Leticia Eduardo Verónica Martha Alfredo Adriana "
               "Héctor Alicia Daniel Gabriela Rafael Silvia Enrique Laura Mario Claudia Gerardo "
               "Sandra Óscar Irma Víctor Lucía Ramón Beatriz Rubén Norma Alberto Araceli Armando "
               "Josefina Ignacio Yolanda Salvador Gloria Gustavo Mónica Ernesto Angélica Andrés "
               "Blanca Hugo Lorena Rodrigo Susana Xóchitl Cuauhtémoc Itzel Citlali Ximena Valeria "
               "Santiago Mateo Regina Emiliano Renata Sofía Diego Camila Leonardo Fernanda Iker "
               "Mariana Joaquín Paola Tomás Karla Ulises Ivonne Abigail Efraín Nayeli Octavio "
               "Rocío Saúl Yesenia Marisol Benito Dolores Agustín Esperanza Froylán Graciela "
               "Heriberto Inés")
SURNAMES = _words("Hernández García Martínez López González Rodríguez Pérez Sánchez Ramírez Cruz "
                  "Flores Gómez Morales Vázquez Jiménez Reyes Díaz Torres Gutiérrez Ruiz Mendoza "
                  "Aguilar Ortiz Moreno Castillo Romero Álvarez Méndez Chávez Rivera Juárez Ramos "
                  "Domínguez Herrera Medina Castro Vargas Guzmán Velázquez Muñoz Rojas Contreras "
                  "Salazar Luna Ortega Santiago Guerrero Estrada Bautista Cortés Soto Alvarado "
                  "Espinoza Lara Ávila Ríos Cervantes Silva Delgado Vega Márquez Sandoval "
                  "Fernández León Carrillo Mejía Solís Núñez Campos Rosas Orozco Cárdenas Navarro "
                  "Ibarra Valencia Peña Maldonado Robles Escobar Fuentes Acosta Rosales Miranda "
                  "Trejo Galván Villanueva Cabrera Pacheco Zamora Arellano Serrano Tapia Oseguera "
                  "Ochoa Beltrán Quintero Caro Zambada Guillén Villarreal Treviño Garza Cantú "
                  "Elizondo Montemayor Tamez Zavala Barrera Olvera Pineda Mora Duarte Bravo Ponce "
                  "Figueroa Padilla Osorio Arriaga Téllez Cuevas Bernal Montoya Benítez Lozano "
                  "Calderón Sosa Tovar Nava Rangel Salas Vera Quiroz Valdez Ayala Trujillo Huerta "
                  "Córdova de_la_Cruz de_León del_Ángel de_la_Rosa de_los_Santos")
# Compound surnames are written with underscores above and get their spaces back here.
SURNAMES = tuple(s.replace("_", " ") for s in SURNAMES)
STATES = _words("CDMX JAL NL MICH GTO BC SON CHIH SIN TAMPS VER PUE OAX GRO MEX COAH DGO ZAC SLP "
                "QRO")
STREETS = _words("Hidalgo Juárez Morelos Allende Zaragoza Madero Reforma Insurgentes "
                 "Independencia Guerrero Obregón Carranza Zapata Aldama Matamoros Victoria "
                 "Constitución Revolución Libertad Benito Niños Héroes Cuauhtémoc Pino Suárez "
                 "Galeana Abasolo Colón")
ACCENTS = str.maketrans("áéíóúÁÉÍÓÚñÑü", "aeiouAEIOUnNu")


def _zipf(rng: np.random.Generator, n: int, size: int, a: float = 1.1) -> np.ndarray:
    """Indices 0..n-1 with a long-tailed frequency (a few names are very common)."""
    weights = 1.0 / np.arange(1, n + 1) ** a
    return rng.choice(n, size=size, p=weights / weights.sum())


def generate(n: int, seed: int = 42, duplicate_share: float = 0.2) -> pd.DataFrame:
    """``n`` records: ``(1 - duplicate_share) * n`` people and corrupted copies of some."""
    rng = np.random.default_rng(seed)
    people = int(n * (1 - duplicate_share))
    copies = n - people
    given = np.array(GIVEN, dtype=object)
    surnames = np.array(SURNAMES, dtype=object)
    g1 = given[_zipf(rng, len(given), people)]
    has2 = rng.random(people) < 0.35
    g2 = np.where(has2, given[_zipf(rng, len(given), people)], "")
    s1 = surnames[_zipf(rng, len(surnames), people, 0.9)]
    s2 = surnames[_zipf(rng, len(surnames), people, 0.9)]
    days = rng.integers(0, 365 * 70, people)
    dob = (np.datetime64("1940-01-01") + days.astype("timedelta64[D]")).astype(str)
    base = pd.DataFrame({
        "entity": np.arange(people),
        "given_name": np.where(has2, g1 + " " + g2, g1),
        "paternal": s1, "maternal": s2, "dob": dob.astype(object),
        "street": np.array(STREETS, dtype=object)[rng.integers(0, len(STREETS), people)],
        "street_number": rng.integers(1, 400, people).astype(str),
        "postcode": np.char.zfill(rng.integers(1000, 99999, people).astype(str), 5),
        "state": np.array(STATES, dtype=object)[rng.integers(0, len(STATES), people)],
        "phone": ("55" + np.char.zfill(rng.integers(0, 10**8, people).astype(str), 8)),
    })
    base["copy"] = 0
    picked = rng.integers(0, people, copies)
    dup = base.iloc[picked].reset_index(drop=True).copy()
    dup["copy"] = np.arange(1, copies + 1)
    _corrupt(dup, rng)
    out = pd.concat([base, dup], ignore_index=True)
    out["id"] = "p" + out["entity"].astype(str) + "-" + out["copy"].astype(str)
    out = out.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return out[["id", "given_name", "paternal", "maternal", "dob", "street", "street_number",
                "postcode", "state", "phone", "entity"]]


def _typo(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    def one(v: str, pos: float) -> str:
        if len(v) < 3:
            return v
        i = 1 + int(pos * (len(v) - 2))
        return v[:i] + v[i + 1:] if pos < 0.5 else v[:i] + v[i] + v[i:]
    return pd.Series([one(v, p) for v, p in zip(values, rng.random(len(values)), strict=True)],
                     index=values.index, dtype=object)


def _corrupt(dup: pd.DataFrame, rng: np.random.Generator) -> None:
    n = len(dup)

    def pick(p: float) -> np.ndarray:
        return rng.random(n) < p

    m = pick(0.5)
    for col in ("given_name", "paternal", "maternal"):
        dup.loc[m, col] = dup.loc[m, col].str.translate(ACCENTS).str.upper()
    m = pick(0.2)
    dup.loc[m, "paternal"] = _typo(dup.loc[m, "paternal"], rng)
    m = pick(0.15)
    dup.loc[m, "given_name"] = _typo(dup.loc[m, "given_name"], rng)
    m = pick(0.1)  # the maternal surname left out
    dup.loc[m, "maternal"] = ""
    # The paternal surname left out: the maternal one moves up (when there still is one).
    m = pick(0.05) & (dup["maternal"] != "").to_numpy()
    dup.loc[m, "paternal"] = dup.loc[m, "maternal"]
    dup.loc[m, "maternal"] = ""
    m = pick(0.2)  # the second given name left out
    dup.loc[m, "given_name"] = dup.loc[m, "given_name"].str.split(" ").str[0]
    m = pick(0.1)
    dup.loc[m, "dob"] = _typo(dup.loc[m, "dob"].str.replace("-", ""), rng)
    m = pick(0.05)
    dup.loc[m, "dob"] = ""
    m = pick(0.3)
    dup.loc[m, "phone"] = ""
    m = pick(0.3)
    dup.loc[m, "street"] = ""
    dup.loc[m, "street_number"] = ""
    m = pick(0.1)
    dup.loc[m, "postcode"] = _typo(dup.loc[m, "postcode"], rng)


def true_pairs(ids: pd.Series, entities: pd.Series) -> int:
    counts = entities.value_counts()
    return int((counts * (counts - 1) // 2).sum())


def to_raw(frame: pd.DataFrame) -> pd.DataFrame:
    """The generated records as the raw source columns ``records.standardise`` reads."""
    return pd.DataFrame({
        "unique_id": frame["id"], "given": frame["given_name"], "surname1": frame["paternal"],
        "surname2": frame["maternal"], "dob": frame["dob"], "street": frame["street"],
        "street_number": frame["street_number"], "postcode": frame["postcode"],
        "state": frame["state"], "phone": frame["phone"]})
