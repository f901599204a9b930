"""Names, life dates, types and the auto-accept rule: pure functions, concrete cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lod.authority import Entity
from lod.reconcile import names, score, wdjson
from lod.reconcile.context import Use

ENTS = json.loads((Path(__file__).parent / "fixtures/reconcile/entities.json").read_text("utf-8"))["entities"]
DOC_1954 = "journal-1954"


def person(label: str, *variants: str, **kw: str) -> Entity:
    return Entity(id=names.fold(label).replace(" ", "-") or "x", label=label, kind="person",
                  variants=list(variants), **kw)


@pytest.mark.parametrize("raw, forms", [
    ("Liu, Shaoqi", ["Shaoqi Liu", "Liu Shaoqi"]),
    ("Chiang, Ching-kuo (Jiang Jingguo)", ["Ching-kuo Chiang", "Chiang Ching-kuo", "Jiang Jingguo"]),
    ("Cde. D.T. Shepilov", ["D.T. Shepilov"]),
    ("1- to Cde. V. M. Molotov", ["V. M. Molotov"]),
    ('Blair, Anthony Charles Lynton ("Tony")', ["Anthony Charles Lynton Blair", "Blair Anthony Charles Lynton"]),
    ("Павел Фёдорович Юдин (1899-09-07 – 1968-04-10)", ["Павел Фёдорович Юдин"]),
    ("刘少奇", ["刘少奇"]),
    ("", []),
])
def test_clean_turns_archive_forms_into_names(raw, forms):
    assert names.clean(raw) == forms


def test_scripts_and_search_languages():
    assert [names.script(n) for n in ("Zhou Enlai", "周恩来", "Чжоу Эньлай", "Satō", "ꦗꦮ")] == \
        ["latin", "han", "cyrillic", "latin", "other"]
    forms, notes = names.search_forms(["Liu Shaoqi", "刘少奇", "劉少奇", "Liu Shao-ch'i", "Liu, Shaoqi"])
    assert forms == [("Liu Shaoqi", "latin"), ("刘少奇", "han"), ("劉少奇", "han"), ("Liu Shao-ch'i", "latin")]
    assert notes == []


def test_initials_only_and_surname_only_names_are_searched_by_family_name_and_noted():
    forms, notes = names.search_forms(["V. V. Vas'kov", "Vas'kov"])
    assert forms == [("Vas'kov", "latin")]
    assert notes and notes[0].startswith("only initials or a surname")
    forms, notes = names.search_forms(["P.F. Yudin"])
    assert forms == [("Yudin", "latin")] and notes
    forms, notes = names.search_forms(["P. F. Y."])          # nothing but initials: nothing to search
    assert forms == [] and notes == ["name 'P. F. Y.': only initials, nothing to search"]
    # a full name exists: the initialled forms are not searched
    forms, notes = names.search_forms(["Pavel Yudin", "P. F. Yudin", "Yudin", "Yudin, Pavel F."])
    assert forms == [("Pavel Yudin", "latin"), ("Pavel F. Yudin", "latin")] and notes == []
    # places and organisations are often one word
    assert names.search_forms(["Anshan", "鞍山"], "place")[0] == [("Anshan", "latin"), ("鞍山", "han")]


def test_similarity_is_same_script_and_explains_itself():
    assert names.similarity("Liu Shaoqi", "liu  shaoqi") == (1.0, "exact")
    assert names.similarity("Liu Shaoqi", "Shaoqi Liu") == (0.97, "reordered")
    assert names.similarity("P. F. Yudin", "Pavel Fyodorovich Yudin") == (0.8, "initials")
    assert names.similarity("Joseph Stalin", "Joseph Vissarionovich Stalin") == (0.9, "partial")
    assert names.similarity("Chou En-lai", "Zhou Enlai")[0] < 0.5        # romanisations are not evidence
    assert names.similarity("Пётр", "Петр") == (1.0, "exact")
    m = names.best_match(["Zhou Enlai", "周恩来"], [("en", "Chou En-lai"), ("zh", "周恩来"), ("ru", "Чжоу")])
    assert (m.score, m.theirs, m.language) == (1.0, "周恩来", "zh")
    assert "zh label/alias '周恩来'" in m.evidence()
    # a Chinese label in a Japanese entry is compared, a Han string is never compared with Latin
    assert names.best_match(["Mao Zedong"], [("zh", "毛泽东")]).score == 0.0


def test_wikidata_times_keep_their_precision_and_calendar():
    ent = {"claims": {"P569": [{"rank": "normal", "mainsnak": {"snaktype": "value", "datavalue": {"value": {
        "time": "+1878-12-06T00:00:00Z", "precision": 11, "calendarmodel": wdjson.JULIAN}}}}],
        "P570": [{"rank": "deprecated", "mainsnak": {"datavalue": {"value": {"time": "+1950-00-00T00:00:00Z",
                                                                                "precision": 9}}}},
                 {"rank": "normal", "mainsnak": {"datavalue": {"value": {"time": "+1953-03-00T00:00:00Z",
                                                                            "precision": 10}}}}]}}
    born, died = wdjson.time_value(ent, "P569"), wdjson.time_value(ent, "P570")
    assert born.iso == "1878-12-18"                      # Julian 6 December = Gregorian 18 December
    assert died.iso == "1953-03" and died.first == (1953, 3, 1) and died.last == (1953, 3, 31)
    assert wdjson.julian_to_gregorian(1917, 10, 25) == (1917, 11, 7)


def test_died_before_a_document_can_be_referred_to_but_not_present():
    stalin = ENTS["Q855"]                                # fixture: 1878-1953, year precision
    born, died = wdjson.time_value(stalin, "P569"), wdjson.time_value(stalin, "P570")
    referred = [Use(DOC_1954, "referred", "1954-02-13")]
    s, ev, ex = score.date_fit(born, died, referred)
    assert (s, ex) == (1.0, "") and "consistent with 1 dated use" in ev
    present = [Use(DOC_1954, "participant", "1954-02-13")]
    s, ev, ex = score.date_fit(born, died, present)
    assert s == 0.0 and ex.startswith("died 1953, before participant in journal-1954 (1954-02-13)")
    same_year = [Use("doc", "author", "1953-05")]         # died 1953 (year), document May 1953: cannot tell
    s, ev, ex = score.date_fit(born, died, same_year)
    assert s == 0.6 and ex == "" and "cannot tell" in ev


def test_born_after_a_document_excludes_any_role():
    decoy = ENTS["Q990000001"]                           # namesake born 1975
    s, _ev, ex = score.date_fit(wdjson.time_value(decoy, "P569"), None, [Use("d", "referred", "1967-11")])
    assert s == 0.0 and "born 1975, after the document" in ex


def test_no_life_dates_or_no_documents_is_neutral_not_confirmed():
    assert score.date_fit(None, None, [Use("d", "author", "1956")])[0] == 0.5
    b = wdjson.time_value(ENTS["Q16988"], "P569")
    assert score.date_fit(b, None, [])[0] == 0.5


def test_type_fit_per_kind():
    assert score.type_fit("person", ["Q5"], {})[0] == 1.0
    s, ev, ex = score.type_fit("person", ["Q515"], {})
    assert s == 0.0 and ex == "not a human: instance of Q515 (a place)"
    assert score.type_fit("place", ["Q1549591", "Q5119"], {})[:2] == (1.0, "P31 Q1549591 (big city)")
    assert score.type_fit("place", ["Q5"], {})[2] == "a human, not a place"
    assert score.type_fit("organization", ["Q7278"], {})[0] == 1.0
    # a class known only through SPARQL wdt:P279*
    assert score.type_fit("place", ["Q990001010"], {"Q990001010": {"place"}})[0] == 1.0
    assert score.type_fit("place", ["Q990001001"], {"Q990001001": set()})[2].startswith("not a settlement")
    s, ev, ex = score.type_fit("place", ["Q990001001"], {})          # could not be checked: not excluded
    assert s == 0.0 and ex == "" and "could not be checked" in ev


def test_scoring_gives_evidence_for_every_component():
    liu = person("Liu Shaoqi", "刘少奇", "Liu, Shaoqi")
    uses = [Use(DOC_1954, "participant", "1954-02-13")]
    c = score.score_candidate(liu, ENTS["Q16988"], uses, {}, qid="Q16988")
    assert set(c.evidence) == {"name", "type", "dates", "prominence"}
    assert c.components["name"] == 1.0 and c.components["type"] == 1.0 and c.components["dates"] == 1.0
    assert c.score >= score.THRESHOLD and not c.excluded
    decoy = score.score_candidate(liu, ENTS["Q990000001"], uses, {}, qid="Q990000001")
    assert decoy.score == 0.0 and "born 1975" in decoy.excluded


def test_authority_life_dates_are_evidence_too():
    yudin = person("Pavel Yudin", "Павел Юдин", birth="1899-09-07", death="1968-04-10")
    c = score.score_candidate(yudin, ENTS["Q990000016"], [], {}, qid="Q990000016")   # namesake born 1950
    assert c.excluded == "authority says born 1899-09-07, Wikidata 1950"


def test_auto_accept_needs_threshold_margin_exact_name_type_and_dates():
    def cand(qid: str, s: float, **comp: float) -> score.Candidate:
        return score.Candidate(qid=qid, score=s, components={"name": 1.0, "type": 1.0, "dates": 1.0,
                                                              "prominence": 1.0, **comp})

    pick, why = score.decide([cand("Q1", 0.98), cand("Q2", 0.5)], kind="person")
    assert pick.qid == "Q1" and "margin 0.48" in why
    assert score.decide([cand("Q1", 0.98), cand("Q2", 0.85)], kind="person")[0] is None     # margin
    assert score.decide([cand("Q1", 0.88)], kind="person")[0] is None                       # threshold
    assert score.decide([cand("Q1", 0.95, name=0.9)], kind="person")[0] is None             # not exact
    pick, why = score.decide([cand("Q1", 0.95, dates=0.5)], kind="person")
    assert pick is None and "life dates not confirmed" in why
    assert score.decide([cand("Q1", 0.95, dates=0.5)], kind="place")[0] is not None
    assert score.decide([cand("Q1", 0.98)], kind="person", rejected={"Q1"})[0] is None
    assert score.decide([cand("Q1", 0.98)], kind="person", blockers=["only initials"])[0] is None
    # prominence alone can never make the margin between two namesakes who both fit
    a = cand("Q1", sum(score.WEIGHTS.values()))
    b = cand("Q2", sum(score.WEIGHTS.values()) - score.WEIGHTS["prominence"], prominence=0.0)
    assert score.decide([a, b], kind="place")[0] is None


def test_verify_fit_check():
    liu = person("Liu Shaoqi", "刘少奇")
    assert score.fits(liu, ENTS["Q16988"], {})[0] is True
    ok, why = score.fits(liu, ENTS["Q990000020"], {})                # a human with another name
    assert not ok and why.startswith("label no longer fits")
    ok, why = score.fits(liu, ENTS["Q990000019"], {"Q990001004": set()})
    assert not ok and "type no longer fits" in why
