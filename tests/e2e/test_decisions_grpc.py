"""Decisions through real gRPC clients: DeployResource with a ``.dmn`` answers with the decision
requirements graph and its decisions in ``deployments``; EvaluateDecision (by id and by key) answers with
the output and every evaluated decision (matched rules, inputs, outputs), a failed evaluation with
``failedDecisionId``/``failureMessage``, an unknown decision with INVALID_ARGUMENT; a business rule task
evaluates its decision into its result variable. pyzeebe's own ``deploy_resource`` and
``evaluate_decision`` work against the gateway too (its integration tests deploy a ``.dmn`` first)."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from pathlib import Path

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio import cli
from zeebe_trio.protocol import ProcessInstanceIntent, ValueType
from zeebe_trio.testing import BrokerHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_decisions import business_rule_task, decision_table, dmn, literal_decision

from .conftest import Client

PRICING = dmn(
    decision_table("discount", "total", [("< 100", "0"), (">= 100", "10")], name="Discount"),
    literal_decision("price", "total - discount", name="Price", requires=("discount",)),
    drg_id="pricing", name="Pricing")
PROCESS = b.process("order", b.start(), b.flow("f1", "start", "rate"), business_rule_task("rate", "price", "price"),
                    b.flow("f2", "rate", "end"), b.end())


async def test_deploying_a_dmn_answers_with_its_graph_and_decisions(client: Client) -> None:
    response = await client.deploy("pricing.dmn", PRICING)
    assert [d.WhichOneof("Metadata") for d in response.deployments] == [
        "decision", "decision", "decisionRequirements"]
    discount, price, graph = (getattr(d, d.WhichOneof("Metadata")) for d in response.deployments)
    assert (graph.dmnDecisionRequirementsId, graph.dmnDecisionRequirementsName, graph.version, graph.resourceName) == (
        "pricing", "Pricing", 1, "pricing.dmn")
    assert [(d.dmnDecisionId, d.dmnDecisionName, d.version, d.dmnDecisionRequirementsId) for d in (discount, price)] == [
        ("discount", "Discount", 1, "pricing"), ("price", "Price", 1, "pricing")]
    assert discount.decisionRequirementsKey == graph.decisionRequirementsKey > response.key

    again = await client.deploy("pricing.dmn", PRICING)
    assert [d.decision.decisionKey for d in again.deployments[:2]] == [discount.decisionKey, price.decisionKey]


async def test_evaluate_decision_answers_with_the_output_and_the_evaluated_decisions(client: Client) -> None:
    deployed = await client.deploy("pricing.dmn", PRICING)
    price_key = deployed.deployments[1].decision.decisionKey
    response = await client.call("EvaluateDecision", pb.EvaluateDecisionRequest(
        decisionId="price", variables=json.dumps({"total": 150})))
    assert (response.decisionId, response.decisionName, response.decisionVersion, response.decisionKey) == (
        "price", "Price", 1, price_key)
    assert (response.decisionRequirementsId, response.decisionOutput, response.failedDecisionId) == (
        "pricing", "140", "")
    assert response.decisionInstanceKey > deployed.key  # pyzeebe's proto predates decisionEvaluationKey
    discount, price = response.evaluatedDecisions
    assert (discount.decisionId, discount.decisionType, discount.decisionOutput) == ("discount", "DECISION_TABLE", "10")
    assert [(i.inputId, i.inputValue) for i in discount.evaluatedInputs] == [("discount_input", "150")]
    [rule] = discount.matchedRules
    assert (rule.ruleId, rule.ruleIndex) == ("discount_rule2", 2)
    assert [(o.outputName, o.outputValue) for o in rule.evaluatedOutputs] == [("result", "10")]
    assert (price.decisionType, price.decisionOutput, price.decisionKey) == ("LITERAL_EXPRESSION", "140", price_key)

    by_key = await client.call("EvaluateDecision", pb.EvaluateDecisionRequest(
        decisionKey=price_key, variables=json.dumps({"total": 50})))
    assert by_key.decisionOutput == "50"


async def test_a_failed_evaluation_answers_with_the_failed_decision(client: Client) -> None:
    await client.deploy("strict.dmn", dmn(decision_table("strict", "x", [("> 0", "1"), ("> 1", "2")]), drg_id="s"))
    response = await client.call("EvaluateDecision", pb.EvaluateDecisionRequest(
        decisionId="strict", variables='{"x": 5}'))
    assert (response.failedDecisionId, response.decisionOutput) == ("strict", "null")
    assert response.failureMessage.startswith("Expected to evaluate decision 'strict', but ")
    [evaluated] = response.evaluatedDecisions
    assert [rule.ruleIndex for rule in evaluated.matchedRules] == [1, 2]


async def test_evaluating_an_unknown_decision_is_invalid_argument(client: Client) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        await client.call("EvaluateDecision", pb.EvaluateDecisionRequest(decisionId="nope"))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == ("Command 'EVALUATE' rejected with code 'INVALID_ARGUMENT': Expected to evaluate"
                                      " decision 'nope', but no decision found for id 'nope'")


async def test_a_broken_dmn_is_rejected_naming_the_resource(client: Client) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        await client.deploy("broken.dmn", b"<definitions")
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(
        "Command 'CREATE' rejected with code 'INVALID_ARGUMENT': Expected to deploy new resources, but encountered the following errors:\n'broken.dmn': ")


async def test_a_business_rule_task_sets_its_result_variable(client: Client) -> None:
    await client.call("DeployResource", pb.DeployResourceRequest(resources=[
        pb.Resource(name="pricing.dmn", content=PRICING), pb.Resource(name="order.bpmn", content=PROCESS)]))
    created = await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
        request=pb.CreateProcessInstanceRequest(bpmnProcessId="order", version=-1, variables='{"total": 200}'),
        requestTimeout=10_000))
    assert json.loads(created.variables) == {"total": 200, "price": 190}
    harness = BrokerHarness(client.broker)  # type: ignore[attr-defined]
    with trio.fail_after(10):
        await harness.wait_for_record(lambda r: r.value_type is ValueType.PROCESS_INSTANCE
                                      and r.intent is ProcessInstanceIntent.ELEMENT_COMPLETED
                                      and r.value["elementId"] == "order")


async def test_pyzeebe_deploys_a_dmn_and_evaluates_its_decision(client: Client, tmp_path: Path) -> None:
    from pyzeebe import ZeebeClient, create_insecure_channel

    path = tmp_path / "pricing.dmn"
    path.write_bytes(PRICING)

    async def run() -> tuple[object, object]:
        channel = create_insecure_channel(grpc_address=client.address)
        try:
            zeebe = ZeebeClient(channel)
            deployed = await zeebe.deploy_resource(str(path))
            evaluated = await zeebe.evaluate_decision(None, "discount", variables={"total": 500})
            return deployed, evaluated
        finally:
            await channel.close()

    deployed, evaluated = await trio.to_thread.run_sync(asyncio.run, run())
    assert [type(d).__name__ for d in deployed.deployments] == [  # type: ignore[attr-defined]
        "DecisionMetadata", "DecisionMetadata", "DecisionRequirementsMetadata"]
    assert evaluated.decision_output == 10  # type: ignore[attr-defined]  # pyzeebe parses the JSON


async def test_the_command_line_deploys_a_dmn_naming_its_decisions(client: Client, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pricing.dmn").write_bytes(PRICING)
    argv = ["deploy", "--address", client.address, str(tmp_path / "pricing.dmn")]
    try:
        code = await trio.to_thread.run_sync(functools.partial(cli.main, argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert re.fullmatch(r"deployed decision discount version 1 \(key \d+\) of pricing", lines[0])
    assert re.fullmatch(r"deployed decision price version 1 \(key \d+\) of pricing", lines[1])
    assert re.fullmatch(r"deployed decision requirements pricing version 1 \(key \d+\) from pricing\.dmn", lines[2])


async def test_the_command_line_evaluates_a_decision_by_id_and_by_key(client: Client,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    deployed = await client.deploy("pricing.dmn", PRICING)
    price_key = deployed.deployments[1].decision.decisionKey

    async def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = await trio.to_thread.run_sync(functools.partial(cli.main, ["evaluate", "decision", "--address",
                                                                              client.address, *argv]))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = await run("price", "--variables", '{"total": 150}')
    assert (code, out) == (0, f"evaluated decision price version 1 (key {price_key}): 140\n"), err
    code, out, err = await run(str(price_key), "--variables", '{"total": 10}')
    assert (code, out) == (0, f"evaluated decision price version 1 (key {price_key}): 10\n"), err
    code, out, err = await run("nope")
    assert code != 0
    assert "no decision found for id 'nope'" in err


LOAN = ('<?xml version="1.0" encoding="UTF-8"?>'
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="loan" name="Loan" namespace="n">'
        '<businessKnowledgeModel id="pmt" name="PMT"><variable name="PMT"/><encapsulatedLogic>'
        '<formalParameter name="p"/><formalParameter name="r"/><formalParameter name="n"/>'
        '<literalExpression><text>(p*r/12)/(1-(1+r/12)**-n)</text></literalExpression></encapsulatedLogic>'
        '</businessKnowledgeModel>'
        '<decision id="payment" name="Payment"><variable name="payment"/>'
        '<knowledgeRequirement><requiredKnowledge href="#pmt"/></knowledgeRequirement>'
        '<invocation><literalExpression><text>PMT</text></literalExpression>'
        '<binding><parameter name="p"/><literalExpression><text>principal</text></literalExpression></binding>'
        '<binding><parameter name="r"/><literalExpression><text>rate</text></literalExpression></binding>'
        '<binding><parameter name="n"/><literalExpression><text>term</text></literalExpression></binding>'
        '</invocation></decision></definitions>')


async def test_a_decision_invoking_a_business_knowledge_model_is_deployed_and_evaluated(client: Client) -> None:
    response = await client.deploy("loan.dmn", LOAN.encode())
    assert [d.WhichOneof("Metadata") for d in response.deployments] == ["decision", "decisionRequirements"]
    evaluated = await client.call("EvaluateDecision", pb.EvaluateDecisionRequest(
        decisionId="payment", variables=json.dumps({"principal": 600000, "rate": 0.0375, "term": 360})))
    assert evaluated.failureMessage == ""
    assert round(float(evaluated.decisionOutput), 2) == 2778.69
    assert [(d.decisionId, d.decisionType) for d in evaluated.evaluatedDecisions] == [("payment", "INVOCATION")]
