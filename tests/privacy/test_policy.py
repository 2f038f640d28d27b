"""Field policies, PII detection and the HMAC secret's handling (``keeneye.privacy``)."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from keeneye.config import ModelPrivacySettings, PrivacySettings, load_settings
from keeneye.errors import ConfigError, InputError
from keeneye.privacy.pii import detect, luhn_valid
from keeneye.privacy.policy import HASHED, PrivacyPolicy, apply_to_table, policies
from keeneye.sdk import Monitor

SECRET = "a-test-secret-of-enough-length"
KEENEYE = str(Path(sys.executable).with_name("keeneye"))


def policy(**fields: object) -> PrivacyPolicy:
    return PrivacyPolicy.from_settings(ModelPrivacySettings.model_validate(fields), secret=SECRET)


# published test card numbers (Visa, Mastercard, Amex, Discover) pass Luhn; one digit off fails
@pytest.mark.parametrize(
    "number", ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117"]
)
def test_luhn_accepts_test_card_numbers_and_rejects_a_changed_digit(number: str) -> None:
    assert luhn_valid(number)
    changed = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not luhn_valid(changed)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ada.lovelace+ml@example.co.uk", "email"),
        ("reach me: bob@mail.example.org.", "email"),
        ("4111-1111-1111-1111", "card"),
        ("paid with 5555 5555 5555 4444 yesterday", "card"),
        ("+1 415 555 0100", "phone"),
        ("(415) 555-0100 ext", "phone"),
        ("+442079460958", "phone"),
        ("2026-11-27", None),  # a date is not a phone number
        ("4111111111111112", None),  # 16 digits failing Luhn, no separators
        ("order 12345", None),
        ("basic", None),
        ("a@b", None),
    ],
)
def test_pii_detection(text: str, kind: str | None) -> None:
    assert detect(text) == kind


def test_hash_is_hmac_sha256_of_the_value_with_the_secret() -> None:
    p = policy(fields={"user": "hash"})
    expected = hmac.new(SECRET.encode(), b"s:ada", hashlib.sha256).hexdigest()[:32]
    assert p.hash("ada") == "h:" + expected
    assert p.hash(p.hash("ada")) == p.hash("ada")  # hashing twice changes nothing
    assert p.hash(1) != p.hash("1")  # a number and its text are different values
    other = PrivacyPolicy.from_settings(
        ModelPrivacySettings.model_validate({"fields": {"user": "hash"}}),
        secret="another-secret-0123456789",
    )
    assert other.hash("ada") != p.hash("ada")  # keyed: no dictionary attack without the key


def test_field_policies() -> None:
    p = policy(
        fields={
            "email": "drop",
            "user": "hash",
            "age": {"policy": "bucket", "edges": [0, 18, 30, 50]},
            "city": {"policy": "bucket", "categories": ["Paris", "Lyon"]},
        },
        pii="detect",
        pii_action="drop",
    )
    out = p.inputs(
        {
            "email": "a@b.org",
            "user": "ada",
            "age": 42,
            "city": "Nice",
            "note": "card 4111 1111 1111 1111",
            "plan": "pro",
            "missing": None,
        }
    )
    assert out == {
        "user": p.hash("ada"),
        "age": 30.0,
        "city": "other",
        "plan": "pro",
        "missing": None,
    }
    assert p.inputs({"age": -5, "city": "Paris"}) == {"age": 0.0, "city": "Paris"}
    assert p.inputs({"age": "forty"}) == {"age": None}  # not a number: nothing stored
    assert p.inputs(out) == out  # idempotent


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["user", "age", "note", "plan"]),
        st.one_of(st.none(), st.text(max_size=30), st.floats(allow_nan=False), st.integers()),
    )
)
def test_applying_a_policy_twice_is_applying_it_once(inputs: dict[str, object]) -> None:
    p = policy(
        fields={"user": "hash", "age": {"policy": "bucket", "edges": [0, 10, 100]}},
        pii="detect",
    )
    once = p.inputs(inputs)
    assert p.inputs(once) == once


def test_event_ids_hashed_or_flagged() -> None:
    p = policy(event_id="hash")
    assert HASHED.match(p.event_id("order-1"))
    q = policy(pii="detect")
    assert q.event_id("order-1") == "order-1"
    assert q.event_id("ada@example.org") == q.hash("ada@example.org")


def test_unlisted_fields_can_be_dropped() -> None:
    p = policy(fields={"age": "keep"}, unlisted="drop")
    assert p.inputs({"age": 3, "other": "x"}) == {"age": 3}


def test_baseline_table_gets_the_policy() -> None:
    p = policy(fields={"email": "drop", "user": "hash"}, pii="detect")
    table = pa.table(
        {
            "email": ["a@b.org", "c@d.org"],
            "user": ["ada", "bob"],
            "note": ["hi", "+1 415 555 0100"],
            "age": [31, 40],
        }
    )
    out = apply_to_table(p, table)
    assert out.column_names == ["user", "note", "age"]
    assert out.column("user").to_pylist() == [p.hash("ada"), p.hash("bob")]
    assert out.column("note").to_pylist() == ["hi", p.hash("+1 415 555 0100")]
    assert out.column("age") == table.column("age")


def test_missing_or_short_secret_is_a_config_error_that_never_shows_it() -> None:
    spec = ModelPrivacySettings.model_validate({"fields": {"user": "hash"}, "secret_env": "MY_KEY"})
    with pytest.raises(ConfigError, match="MY_KEY is not set"):
        PrivacyPolicy.from_settings(spec, environ={})
    with pytest.raises(ConfigError, match="shorter than 16") as info:
        PrivacyPolicy.from_settings(spec, environ={"MY_KEY": "tiny-secret"})
    assert "tiny-secret" not in str(info.value)
    with pytest.raises(ConfigError, match=r"privacy\.models\.churn: .*MY_KEY"):
        policies(PrivacySettings.model_validate({"models": {"churn": spec.model_dump()}}), {})
    # a policy that hashes nothing needs no secret
    PrivacyPolicy.from_settings(ModelPrivacySettings.model_validate({"fields": {"a": "drop"}}))


def test_the_secret_is_not_in_the_policy_repr() -> None:
    p = policy(fields={"user": "hash"})
    assert SECRET not in repr(p) and SECRET not in str(p)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"policy": "bucket"}, "needs `edges`"),
        ({"policy": "bucket", "edges": [3, 1]}, "strictly ascending"),
        ({"policy": "bucket", "edges": [1], "categories": ["a"]}, "not both"),
    ],
)
def test_bad_bucket_rules(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        policy(fields={"age": spec})


def test_yaml_and_monitor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "keeneye.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {"privacy": {"models": {"churn": {"fields": {"email": "drop", "user": "hash"}}}}}
        )
    )
    settings_ = load_settings(cfg)
    assert settings_.privacy.models["churn"].fields["email"] == "drop"
    monkeypatch.setenv("KEENEYE_PRIVACY_SECRET", SECRET)
    monitor = Monitor("churn", "1", url="http://127.0.0.1:9", privacy=cfg, max_retries=0)
    try:
        assert monitor.privacy is not None
        assert monitor.privacy.inputs({"email": "x", "user": "ada"}) == {
            "user": monitor.privacy.hash("ada")
        }
    finally:
        monitor.close(timeout=0)
    with pytest.raises(InputError, match=r"no privacy\.models\.fraud section"):
        Monitor("fraud", "1", url="http://127.0.0.1:9", privacy=cfg)


def test_a_bad_policy_value_is_a_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "keeneye.yaml"
    cfg.write_text(yaml.safe_dump({"privacy": {"models": {"m": {"fields": {"a": "blur"}}}}}))
    with pytest.raises(ConfigError, match=r"privacy\.models\.m\.fields\.a"):
        load_settings(cfg)


def test_server_refuses_to_start_without_the_secret(tmp_path: Path) -> None:
    cfg = tmp_path / "keeneye.yaml"
    cfg.write_text(yaml.safe_dump({"privacy": {"models": {"m": {"fields": {"a": "hash"}}}}}))
    env = {k: v for k, v in os.environ.items() if k != "KEENEYE_PRIVACY_SECRET"}
    done = subprocess.run(
        [
            KEENEYE,
            "server",
            "--store",
            str(tmp_path / "s.duckdb"),
            "--port",
            "0",
            "--config",
            str(cfg),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: privacy.models.m:") and done.stderr.count("\n") == 1
    assert "KEENEYE_PRIVACY_SECRET is not set" in done.stderr
    assert not (tmp_path / "s.duckdb").exists()  # stopped before opening the store


def test_monitor_without_the_secret_fails_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "keeneye.yaml"
    cfg.write_text(yaml.safe_dump({"privacy": {"models": {"m": {"event_id": "hash"}}}}))
    monkeypatch.delenv("KEENEYE_PRIVACY_SECRET", raising=False)
    threads = threading.active_count()
    with pytest.raises(ConfigError, match="KEENEYE_PRIVACY_SECRET is not set"):
        Monitor("m", "1", url="http://127.0.0.1:9", privacy=cfg)
    assert threading.active_count() == threads  # no sender thread left behind
