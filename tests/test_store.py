"""The statement store: namespaced ids, idempotent writes, scoped views and name search."""

from __future__ import annotations

import pytest
from followthemoney import model
from hypothesis import given
from hypothesis import strategies as st

from binational.core.errors import InvalidInput, NotFound
from binational.core.platform import Platform
from binational.core.store import Scope, Store, escape_like, name_tokens
from binational.core.vocab import Country


@pytest.fixture
def store(platform: Platform) -> Store:
    platform.identity.add_agency("UIF", "Unidad de Inteligencia Financiera", Country.MX)
    platform.identity.add_agency("FINCEN", "FinCEN", Country.US)
    platform.catalog.add("mx_a", "UIF", "A")
    platform.catalog.add("us_b", "FINCEN", "B")
    return platform.store


def person(entity_id: str, *names: str, **props: str) -> object:
    proxy = model.make_entity("Person")
    proxy.id = entity_id
    for name in names:
        proxy.add("name", name)
    for key, value in props.items():
        proxy.add(key, value)
    return proxy


def write(store: Store, dataset: str, *entities: object) -> list[str]:
    with store.db.write() as conn:
        writer = store.writer(conn, dataset)
        ids = [writer.add_entity(e) for e in entities]  # type: ignore[arg-type]
        writer.flush()
    return ids


def test_ids_are_namespaced_and_dotted_ids_stay_apart(store: Store) -> None:
    a, b = write(store, "mx_a", person("acme.1", "Uno"), person("acme.2", "Dos"))
    assert a != b and a.startswith("acme.1.") and b.startswith("acme.2.")
    (c,) = write(store, "us_b", person("acme.1", "Uno"))
    assert c != a  # the same source id in another owner's dataset is another entity
    # Signing an id that is already signed by this dataset keeps it.
    (again,) = write(store, "mx_a", person(a, "Uno"))
    assert again == a


def test_rewrite_is_idempotent(store: Store) -> None:
    entity = person("p-1", "José María Oseguera", birthDate="1966-07-17")
    with store.db.write() as conn:
        writer = store.writer(conn, "mx_a")
        writer.add_entity(entity)  # type: ignore[arg-type]
        writer.flush()
    first = writer.stats.statements_new
    with store.db.write() as conn:
        writer = store.writer(conn, "mx_a")
        writer.add_entity(entity)  # type: ignore[arg-type]
        writer.flush()
    assert first == 3 and writer.stats.statements_new == 0 and writer.stats.statements_seen == 3


def test_unknown_dataset_and_bad_ids(store: Store) -> None:
    with pytest.raises(NotFound), store.db.write() as conn:
        store.writer(conn, "nope")
    with pytest.raises(InvalidInput, match="invalid entity id"), store.db.write() as conn:
        store.writer(conn, "mx_a").add_entity(person("bad id!", "X"))  # type: ignore[arg-type]


def test_view_is_scoped(store: Store) -> None:
    (mx,) = write(store, "mx_a", person("p-1", "Ana García"))
    (us,) = write(store, "us_b", person("p-1", "Ana Garcia"))
    view = store.view(Scope({"mx_a": None}))
    assert view.get_entity(us) is None
    entity = view.get_entity(mx)
    assert entity is not None and entity.datasets == {"mx_a"}
    assert [e.id for e in view.search("garcia")] == [mx]
    assert view.count() == 1
    assert store.view(Scope({})).count() == 0
    assert store.view(Scope({"mx_a": frozenset({"Company"})})).get_entity(mx) is None


def test_name_search_folds_accents_and_matches_word_prefixes(store: Store) -> None:
    ids = write(store, "mx_a", person("p-1", "Nemesio Oseguera Cervantes"),
                person("p-2", "María de los Ángeles Peña"), person("p-3", "Rubén Oseguera"))
    view = store.view(Scope({"mx_a": None}))
    assert {e.id for e in view.search("oseguera")} == {ids[0], ids[2]}
    assert [e.id for e in view.search("OSEGUERA cerv")] == [ids[0]]
    assert [e.id for e in view.search("angeles pena")] == [ids[1]]
    assert view.search("seguera") == []  # prefixes of words, not any substring
    assert view.search("100%") == []
    with pytest.raises(InvalidInput):
        view.search("!!!")


def test_delete_entity_removes_its_text(store: Store) -> None:
    (eid,) = write(store, "mx_a", person("p-1", "Ana García"))
    with store.db.write() as conn:
        assert store.writer(conn, "mx_a").delete_entity(eid) == 2
    view = store.view(Scope({"mx_a": None}))
    assert view.get_entity(eid) is None and view.search("ana") == []


@given(st.text(max_size=40))
def test_name_tokens_are_plain_words(text: str) -> None:
    for token in name_tokens(text):
        assert token == token.lower() and " " not in token and 0 < len(token) <= 64


@given(st.text(max_size=20))
def test_escape_like_leaves_no_wildcards(word: str) -> None:
    escaped = escape_like(word)
    stripped = escaped.replace("\\\\", "").replace("\\%", "").replace("\\_", "")
    assert "%" not in stripped and "_" not in stripped


def test_name_tokens_fold_after_transliteration() -> None:
    assert name_tokens("0\U0001d4d0 ÁLVAREZ") == {"0a", "alvarez"}
