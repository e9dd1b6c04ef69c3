"""DNA kinship engine: pedigree likelihoods, mutation models, joint DVI against dvir's answers."""

from __future__ import annotations

import itertools
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binational.core.errors import InvalidInput
from binational.identification.dna.case import case_from_dict, load_case
from binational.identification.dna.dvi import DviSolver, solve
from binational.identification.dna.likelihood import loglik, singleton_loglik
from binational.identification.dna.markers import Marker, MutationModel
from binational.identification.dna.pedigree import FEMALE, MALE, Pedigree, Person

DVI = Path(__file__).resolve().parents[1] / "data" / "demo" / "identification" / "dvi"
KNOWN = json.loads((DVI / "KNOWN_ANSWERS.json").read_text())


def marker(freqs: list[float], model: MutationModel | None = None, name: str = "L1") -> Marker:
    return Marker(name, [str(i + 1) for i in range(len(freqs))], np.array(freqs), model, model)


Gt = tuple[str, str]


def trio(child: Gt, fa: Gt | None, mo: Gt | None) -> Pedigree:
    def g(x: tuple[str, str] | None) -> dict[str, tuple[str, str]]:
        return {"L1": x} if x else {}

    return Pedigree([
        Person("fa", sex=MALE, genotypes=g(fa)),
        Person("mo", sex=FEMALE, genotypes=g(mo)),
        Person("ch", "fa", "mo", MALE, g(child)),
    ])


# -- pedigree likelihood ------------------------------------------------------------------


def test_kinship_check_values_of_the_data_notes() -> None:
    # Parents 1/2 and 1/2, p(1) = 0.1: child 1/1 gives LR 25, child 2/2 gives 1/(4 * 0.9^2).
    m = marker([0.1, 0.9])
    for child, expected in ((("1", "1"), 25.0), (("2", "2"), 1 / (4 * 0.9**2))):
        related = loglik(trio(child, ("1", "2"), ("1", "2")), [m])
        unrelated = loglik(trio(("1", "2"), None, None).with_genotypes({}), [m])
        parents = 2 * math.log(2 * 0.1 * 0.9)
        child_alone = singleton_loglik({"L1": child}, [m])
        lr = math.exp(related - parents - child_alone)
        assert lr == pytest.approx(expected, rel=1e-12)
        assert unrelated == pytest.approx(math.log(2 * 0.1 * 0.9))


def test_equal_mutation_father_son_closed_form() -> None:
    rate, p = 0.01, [0.2, 0.3, 0.5]
    m = marker(p, MutationModel("equal", rate))
    ped = trio(("2", "2"), ("1", "1"), None)
    # Father 1/1: P = p1^2; son's paternal 2 by mutation rate/(n-1); the untyped mother
    # passes a 2 with (pM)_2: her own 2 unmutated, or another allele mutated into a 2.
    from_mother = p[1] * (1 - rate) + (1 - p[1]) * rate / 2
    expected = p[0] ** 2 * rate / 2 * from_mother
    assert math.exp(loglik(ped, [m])) == pytest.approx(expected, rel=1e-12)
    assert loglik(ped, [m.without_mutation()]) == -math.inf


def test_mutation_models_are_stochastic_with_the_stated_rate() -> None:
    p = np.array([0.1, 0.2, 0.3, 0.4])
    alleles = ["10", "11", "12", "12.3"]
    for model in (MutationModel("equal", 0.02), MutationModel("proportional", 0.02),
                  MutationModel("stepwise", 0.02, 0.001, 0.5)):
        mat = model.matrix(alleles, p)
        assert np.allclose(mat.sum(axis=1), 1.0)
        assert np.all(mat >= 0)
    prop = MutationModel("proportional", 0.02).matrix(alleles, p)
    assert float(p @ (1 - np.diag(prop))) == pytest.approx(0.02)
    step = MutationModel("stepwise", 0.02, 0.001, 0.5).matrix(alleles, p)
    # One step is twice as likely as two steps (range 0.5); microvariant gets rate2.
    assert step[0, 1] == pytest.approx(2 * step[0, 2])
    assert step[0, 3] == pytest.approx(0.001)
    assert step[0, 0] == pytest.approx(1 - 0.02 - 0.001)
    with pytest.raises(InvalidInput, match="numeric"):
        MutationModel("stepwise", 0.01, 0.0, 0.1).matrix(["a", "b"], np.array([0.5, 0.5]))


def brute_force(ped: Pedigree, m: Marker) -> float:
    """Sum over every ordered genotype of every person: the definition, for small pedigrees."""
    n = len(m.alleles)
    mats = {MALE: m.mutation_matrix(MALE), FEMALE: m.mutation_matrix(FEMALE)}
    people = ped.persons
    total = 0.0
    for combo in itertools.product(itertools.product(range(n), repeat=2), repeat=len(people)):
        g = {p.id: combo[i] for i, p in enumerate(people)}
        prob = 1.0
        for p in people:
            a, b = g[p.id]
            obs = p.genotypes.get(m.name)
            if obs is not None and sorted((m.index(obs[0]), m.index(obs[1]))) != sorted((a, b)):
                prob = 0.0
                break
            if p.is_founder:
                prob *= m.freqs[a] * m.freqs[b]
            else:
                for allele, parent, sex in ((a, p.father, MALE), (b, p.mother, FEMALE)):
                    assert parent is not None
                    pa, pb = g[parent]
                    given = mats[sex]
                    mat = given if given is not None else np.eye(n)
                    prob *= 0.5 * (mat[pa, allele] + mat[pb, allele])
        total += prob
    return total


genotype = st.tuples(st.sampled_from("123"), st.sampled_from("123"))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    typed=st.lists(st.one_of(st.none(), genotype), min_size=4, max_size=4),
    rate=st.sampled_from([0.0, 0.05]),
    model=st.sampled_from(["equal", "proportional"]),
    shape=st.sampled_from(["siblings", "grandchild"]),
)
def test_peeling_equals_brute_force(typed: list[tuple[str, str] | None], rate: float, model: str,
                                    shape: str) -> None:
    m = marker([0.2, 0.3, 0.5], MutationModel(model, rate) if rate else None)
    if shape == "siblings":
        rel = [("F", None, None, MALE), ("M", None, None, FEMALE), ("A", "F", "M", MALE),
               ("B", "F", "M", FEMALE)]
    else:
        rel = [("F", None, None, MALE), ("M", None, None, FEMALE), ("A", "F", "M", MALE),
               ("B", "A", "X", FEMALE), ("X", None, None, FEMALE)]
    persons = []
    for i, (pid, fa, mo, sex) in enumerate(rel):
        g = typed[i] if i < 4 else None
        persons.append(Person(pid, fa, mo, sex, {"L1": g} if g else {}))
    ped = Pedigree(persons)
    expected = brute_force(ped, m)
    got = loglik(ped, [m])
    if expected == 0:
        assert got == -math.inf
    else:
        assert got == pytest.approx(math.log(expected), rel=1e-10, abs=1e-12)


def test_bad_pedigrees_are_refused_with_the_reason() -> None:
    with pytest.raises(InvalidInput, match="own ancestor"):
        Pedigree([Person("a", "b", "c", MALE), Person("b", "a", "c", MALE),
                  Person("c", None, None, FEMALE)])
    with pytest.raises(InvalidInput, match="not recorded as female"):
        Pedigree([Person("a", None, None, MALE), Person("b", None, None, MALE),
                  Person("c", "a", "b", MALE)])
    with pytest.raises(InvalidInput, match="not in the pedigree"):
        Pedigree([Person("c", "ghost", "m", MALE), Person("m", sex=FEMALE)])
    with pytest.raises(InvalidInput, match="twice"):
        Pedigree([Person("a"), Person("a")])
    # One parent given: the other is added as an untyped founder, as pedFamilias does.
    ped = Pedigree([Person("m", sex=FEMALE), Person("c", None, "m", MALE)])
    assert ped.by_id["c"].father == "added_1"


def test_unknown_allele_gets_the_minimum_frequency_and_a_warning() -> None:
    data = json.loads((DVI / "example2.json").read_text())
    data["pm"][0]["genotypes"]["L1"] = ["1", "99"]
    case = case_from_dict(data)
    assert "99" in case.markers[0].alleles
    assert any("99" in w for w in case.warnings)
    assert case.markers[0].freqs.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["pm"][0]["genotypes"].update({"NOPE": ["1", "2"]}), "unknown marker"),
    (lambda d: d["pm"][0]["genotypes"].update({"L1": ["1"]}), "two alleles"),
    (lambda d: d.update({"missing": ["M1", "M9"]}), "not in any reference family"),
    (lambda d: d["markers"][0].update({"afreq": [0.5] * 10}), "sum to"),
    (lambda d: d["am"][0][2].update({"mid": "M1"}), "not recorded as female"),
    (lambda d: d.pop("am"), "no 'am'"),
])
def test_malformed_cases_name_the_problem(mutate: object, message: str) -> None:
    data = json.loads((DVI / "example2.json").read_text())
    assert callable(mutate)
    mutate(data)
    with pytest.raises(InvalidInput, match=message):
        case_from_dict(data)


def test_malformed_json_gives_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n "markers": [\n  1,,\n ]\n}')
    with pytest.raises(InvalidInput, match="line 3"):
        load_case(bad)


# -- joint DVI against dvir ------------------------------------------------------------------


def test_example2_reproduces_dvir_joint_table() -> None:
    result = solve(load_case(DVI / "example2.json"))
    expected = KNOWN["example2"]["joint_table_top10"]
    assert result.n_assignments == len(expected)  # the -Inf rows are dropped
    assert result.n_total == KNOWN["example2"]["n_assignments"]  # dvir counts them
    for k, row in enumerate(expected):
        assert result.rows[k] == {v: row[v] for v in ("V1", "V2", "V3")}
        assert result.logliks[k] == pytest.approx(row["loglik"], abs=1e-5)
        assert result.lr(k) == pytest.approx(row["LR_vs_null"], rel=1e-9)
    post = KNOWN["example2"]["posterior_pairing_probs_flat_prior"]
    for v, probs in post.items():
        for m, p in probs.items():
            assert result.posterior[v][m] == pytest.approx(p, abs=1e-8)


def test_example2_pairwise_and_undisputed() -> None:
    solver = DviSolver(load_case(DVI / "example2.json"))
    pairings = solver.pairings()
    lrm = solver.pairwise_lr(pairings)
    for v, row in KNOWN["example2"]["pairwise_LR_matrix"].items():
        for m, x in row.items():
            assert lrm[v][m] == (None if x is None else pytest.approx(x))
    for threshold, key in ((5, "threshold_5"), (2, "threshold_2")):
        found = solver.find_undisputed(pairings, threshold)
        expected = KNOWN["example2"]["findUndisputed"][key]
        assert [(u.missing, u.victim, u.step) for u in found] == [
            (e["missing"], e["sample"], e["step"]) for e in expected
        ]
        assert [u.lr for u in found] == pytest.approx([e["LR"] for e in expected])


def test_example1_joint_beats_the_best_single_pairing() -> None:
    known = KNOWN["example1"]
    result = solve(load_case(DVI / "example1.json"))
    assert result.best == known["best_joint_assignment"]
    assert result.best_loglik == pytest.approx(known["loglik_best"], abs=1e-4)
    assert result.lr(0) == pytest.approx(known["best_LR_vs_null"])
    assert result.lr(1) == pytest.approx(known["runner_up_LR_vs_null"])
    assert max(result.pairwise["V1"].values(), key=lambda x: x or 0) == pytest.approx(20)


def test_familias_file_gives_the_same_answer_as_the_json() -> None:
    # dvi-example.fam is example1 drawn in Familias (missing persons named "Missing ...").
    fam = solve(load_case(DVI / "dvi-example.fam"))
    js = solve(load_case(DVI / "example1.json"))
    assert fam.logliks[:5] == pytest.approx(js.logliks[:5], abs=1e-9)
    assert fam.n_assignments == js.n_assignments


def test_mutation_case_from_fam_and_json_agree() -> None:
    fam = solve(load_case(DVI / "KETPex498.fam"))
    js = solve(load_case(DVI / "KETPexer498.json"))
    assert fam.best_loglik == pytest.approx(js.best_loglik, abs=1e-6)
    assert fam.n_assignments == js.n_assignments
    assert fam.lr(0) == pytest.approx(js.lr(0), rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_corrupted_fam_files_fail_cleanly(data: st.DataObject) -> None:
    lines = (DVI / "dvi-example.fam").read_text().splitlines()
    k = data.draw(st.integers(0, len(lines) - 1))
    action = data.draw(st.sampled_from(["drop", "garble", "truncate"]))
    if action == "drop":
        lines = lines[:k] + lines[k + 1:]
    elif action == "garble":
        lines[k] = data.draw(st.text(alphabet="ab=[]1.#", max_size=8))
    else:
        lines = lines[:k]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.fam"
        path.write_text("\n".join(lines))
        try:
            case = load_case(path)
        except InvalidInput:
            return
    # A file that still parses still gives a well-formed case.
    assert case.victims and case.families


def test_mutation_modes() -> None:
    case = load_case(DVI / "KETPexer498.json")
    on, off, auto = (DviSolver(load_case(DVI / "KETPexer498.json"), mutations=mode).solve()
                     for mode in ("on", "off", "auto"))
    assert any(m.has_mutation for m in case.markers)
    # The references are consistent without mutation: auto (dvir's jointDVI) = off.
    assert auto.logliks == pytest.approx(off.logliks)
    assert on.best_loglik != pytest.approx(off.best_loglik)
    with pytest.raises(InvalidInput, match="mutations"):
        DviSolver(case, mutations="sometimes")


def _paths(o: object, p: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [p]
    if isinstance(o, dict):
        for k, v in o.items():
            out += _paths(v, (*p, k))
    elif isinstance(o, list):
        for i, v in enumerate(o):
            out += _paths(v, (*p, i))
    return out


EXAMPLE2 = json.loads((DVI / "example2.json").read_text())
JUNK_VALUES: list[object] = [None, 5, "x", [], {}, [1, 2], {"a": 1}, -1.5, True, ["1"], [[]], [{}]]
JUNK: st.SearchStrategy[object] = st.sampled_from(JUNK_VALUES)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_paths(EXAMPLE2)[1:]), JUNK)
def test_malformed_case_json_fails_cleanly(path: tuple[object, ...], junk: object) -> None:
    import copy

    data = copy.deepcopy(EXAMPLE2)
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = junk
    try:
        case = case_from_dict(data)
    except InvalidInput:
        return
    assert case.victims and case.families
