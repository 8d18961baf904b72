"""The corpus verdict (corpus_verdict.json) stays true: Camunda's Modeler lint still calls the same files
executable, zeebe-trio still deploys the same files, and an executable file it refuses is refused for a
feature it does not support yet, or for a check Zeebe makes too. Regenerate with
``python tests/bpmn/regenerate_corpus_verdict.py`` when one of them changes on purpose."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from regenerate_corpus_verdict import (
    CORPUS,
    NOT_SUPPORTED,
    VERDICT,
    Outcome,
    corpus_files,
    deploy_outcome,
    lint_unavailable,
    resource_name,
    run_lint,
)

README = Path(__file__).resolve().parents[2] / "README.md"
REGENERATE = "run `python tests/bpmn/regenerate_corpus_verdict.py` and commit corpus_verdict.json"

needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the BPMN corpus is not present at {CORPUS} (it lives outside the repository)"
)

#: Executable by the lint, yet refused by Zeebe 8.8 too: the lint does not look at these, Zeebe's deployment
#: does (the Zeebe check that refuses each one is named). zeebe-trio refuses them for the same reason.
ZEEBE_REFUSES_TOO = {
    "connectors-runtime/single-webhook-boundary.bpmn":
        "zeebe:input source=\"noAuth\" (static): ZeebeRuntimeValidators' input source expression check,"
        " 'Expected expression but found static value'",
    "bpmnlint-plugin-camunda-compat/io-mapping.bpmn":
        "zeebe:taskDefinition retries=\"\": ZeebeTaskDefinition retries hasNonEmptyAttribute",
    "bpmnlint-plugin-camunda-compat/sequence-flow-condition-broken-diagram.bpmn":
        "sourceRef 'StartEvent_1' names no element: the XML schema's IDREF check when the model is read",
    "camunda-modeler/cloud-bpmn__diagram.bpmn":
        "id 'Process_{{ ID:process }}' (a template placeholder) is no xsd:ID: the XML schema check",
    "camunda-zeebe-apache/DefinitionsTest.shouldImportEmptyDefinitions.bpmn":
        "no process: 'Must contain at least one executable process'",
    "zeebe-bpmn-moddle/rootElement.bpmn":
        "no process: 'Must contain at least one executable process'",
    "camunda-zeebe-apache/default-flow.bpmn":
        "'Default flow must start at gateway' (Zeebe's own fixture for it); condition '$.foo == true' is static,"
        " and ConditionExpression must be isNonStatic()",
    "bpmnlint-plugin-camunda-compat/camunda-cloud-8-1-timer.bpmn":
        "an event sub process with two start events: SubProcessValidator's 'Must have exactly one start event'",
    "bpmnlint-plugin-camunda-compat/camunda-cloud-8-2-timer.bpmn":
        "an event sub process with two start events: SubProcessValidator's 'Must have exactly one start event'",
    "bpmnlint-plugin-camunda-compat/camunda-cloud-8-3-timer.bpmn":
        "an event sub process with two start events: SubProcessValidator's 'Must have exactly one start event'",
    "camunda-zeebe-apache/multiple-timer-start-event-sub-process.bpmn":
        "an embedded sub process with two (timer) start events: SubProcessValidator's 'Must have exactly one"
        " start event' and 'Start events in subprocesses must be of type none'",
    "zeebe-bpmn-moddle/simple.bpmn":
        "zeebe:output source 'sourceValue' is static: ZeebeRuntimeValidators' ZeebeOutput source"
        " isNonStatic().isMandatory()",
    "camunda-zeebe-apache/default-flow-inclusive-gateway.bpmn":
        "'Default flow must start at gateway' (Zeebe's own fixture for it); condition '$.foo == true' is static,"
        " and ConditionExpression must be isNonStatic()",
    "camunda-zeebe-apache/ZeebeExecutionListenersValidationTest.testEventTypeNotDefined.bpmn":
        "execution listeners without an eventType and with eventType=\"\" (Zeebe's own fixture for"
        " ZeebeExecutionListenersValidationTest.testEventTypeNotDefined): the XML schema's enumeration check",
    "camunda-zeebe-apache/LinkEventTest.testCatchLinkEventAfterEventBasedGatewayNotAllowed.bpmn":
        "an event-based gateway with one outgoing flow, to a link catch event (Zeebe's own fixture for it):"
        " EventBasedGatewayValidator's 'Event-based gateway must have at least 2 outgoing sequence flows'",
    "bpmn-miwg-test-suite/C.9.0.bpmn":
        "zeebe:input source=\"demo@camunda.com\" (static): ZeebeRuntimeValidators' input source expression check,"
        " 'Expected expression but found static value'",
    "bpmn-miwg-test-suite/C.9.0-roundtrip.bpmn":
        "zeebe:input source=\"demo@camunda.com\" (static): ZeebeRuntimeValidators' input source expression check,"
        " 'Expected expression but found static value'",
}


def checked_in() -> dict:
    return json.loads(VERDICT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    return {resource_name(path): deploy_outcome(resource_name(path), path.read_bytes()) for path in corpus_files()}


@needs_corpus
def test_the_verdict_names_every_corpus_file_and_counts_them():
    document = checked_in()
    files = document["files"]
    assert sorted(files) == [resource_name(path) for path in corpus_files()], REGENERATE
    executable = [name for name, verdict in files.items() if verdict["executable"]]
    assert document["counts"] == {
        "files": len(files),
        "executable": len(executable),
        "executable_and_deploy": sum(files[name]["deploys"] for name in executable),
        "deploy": sum(verdict["deploys"] for verdict in files.values()),
    }
    for name, verdict in files.items():
        assert verdict["executable"] == (not verdict["lint_errors"]), name
        assert (verdict["rejection"] is None) == verdict["deploys"], name


@needs_corpus
def test_the_modeler_lint_calls_exactly_the_checked_in_files_executable():
    reason = lint_unavailable()
    if reason:
        pytest.skip(f"cannot run bpmnlint-plugin-camunda-compat: {reason}")
    lint = run_lint()
    files = checked_in()["files"]
    assert sorted(lint) == sorted(files), REGENERATE
    changed = {name: errors for name, errors in lint.items() if (not errors) != files[name]["executable"]}
    assert not changed, (
        f"the lint changed its mind about {len(changed)} files ({REGENERATE}):\n"
        + "\n".join(f"{name}: now {'executable' if not errors else errors[:3]}" for name, errors in changed.items())
    )


@needs_corpus
def test_zeebe_trio_deploys_exactly_the_checked_in_files(outcomes):
    files = checked_in()["files"]
    lost = sorted(name for name, outcome in outcomes.items() if files[name]["deploys"] and not outcome.deploys)
    gained = sorted(name for name, outcome in outcomes.items() if outcome.deploys and not files[name]["deploys"])
    assert not lost, "no longer deploy (a regression):\n" + "\n".join(
        f"{name}: {outcomes[name].rejection}" for name in lost)
    assert not gained, f"deploy now, {REGENERATE}:\n" + "\n".join(gained)


@needs_corpus
def test_executable_files_are_refused_only_for_what_is_not_supported_yet_or_zeebe_refuses_too(outcomes):
    files = checked_in()["files"]
    refused = {name: outcomes[name] for name, verdict in files.items()
               if verdict["executable"] and not outcomes[name].deploys}
    otherwise = {name: [p for p in outcome.problems if NOT_SUPPORTED not in p]
                 for name, outcome in refused.items() if not outcome.only_unsupported}
    unexpected = {name: problems for name, problems in otherwise.items() if name not in ZEEBE_REFUSES_TOO}
    assert not unexpected, (
        f"{len(unexpected)} of the {len(refused)} executable files zeebe-trio refuses are refused for something"
        " other than a feature not supported yet, which Zeebe would deploy (fix the engine, or name the Zeebe"
        " check that refuses it too in ZEEBE_REFUSES_TOO):\n"
        + "\n".join(f"{name}: {problems[0]}" for name, problems in sorted(unexpected.items()))
        + "\nrefused only for features not supported yet:\n"
        + "\n".join(sorted(set(refused) - set(otherwise)))
    )
    stale = sorted(name for name in ZEEBE_REFUSES_TOO if name not in otherwise)
    assert not stale, f"ZEEBE_REFUSES_TOO names files no longer refused that way: {stale}"


@needs_corpus
def test_the_readme_states_the_checked_in_counts():
    counts = checked_in()["counts"]
    text = " ".join(README.read_text(encoding="utf-8").split())
    stated = re.search(r"(\d+) of those files are executable on Zeebe 8\.8 by Camunda's own Modeler lint .*?"
                       r" and (\d+) of them deploy today\. .*?, (\d+) of them, for a check Zeebe makes too", text)
    assert stated, "README.md's BPMN bullet no longer states the corpus counts"
    assert stated.groups() == (str(counts["executable"]), str(counts["executable_and_deploy"]),
                               str(len(ZEEBE_REFUSES_TOO))), "README.md states other counts than corpus_verdict.json"
