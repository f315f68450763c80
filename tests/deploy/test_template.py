"""template.yaml: valid for CloudFormation (cfn-lint) and deploys what the code expects."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from skill.hosting import settings
from skill.storage import dynamodb as dynamo

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt) as {"Ref": ...} style mappings."""


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)


def _of_type(template: dict, kind: str) -> dict:
    found = {k: r for k, r in template["Resources"].items() if r["Type"] == kind}
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.items()))


def _cfn_lint(path: Path) -> subprocess.CompletedProcess:
    """`cfn-lint path`, from the environment that runs the tests."""
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run([str(cfn_lint), str(path)], capture_output=True, text=True, timeout=300)


def test_cfn_lint_passes():
    result = _cfn_lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path):
    broken = TEMPLATE.read_text(encoding="utf-8").replace("PAY_PER_REQUEST", "PAY_AS_YOU_GO")
    (tmp_path / "template.yaml").write_text(broken, encoding="utf-8")
    result = _cfn_lint(tmp_path / "template.yaml")
    assert result.returncode != 0 and "PAY_AS_YOU_GO" in result.stdout, result.stderr


def test_function_runs_the_lambda_handler_built_by_the_packaging_script(template):
    name, function = _of_type(template, "AWS::Serverless::Function")
    props = function["Properties"]
    assert props["Handler"] == "skill.lambda_function.handler"
    assert props["Architectures"] == ["arm64"]
    assert function["Metadata"]["BuildMethod"] == "makefile"
    assert f"build-{name}:" in (ROOT / "Makefile").read_text(encoding="utf-8")
    spec = importlib.util.spec_from_file_location("package_lambda",
                                                  ROOT / "scripts" / "package_lambda.py")
    package_lambda = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package_lambda)
    # The bytecode is compiled for the runtime the template deploys to, wheels for its CPU.
    assert props["Runtime"] == f"python{package_lambda.LAMBDA_PYTHON}"
    assert all(p.endswith("_aarch64") for p in package_lambda.LAMBDA_PLATFORMS)


def test_function_answers_within_alexas_deadline(template):
    _, function = _of_type(template, "AWS::Serverless::Function")
    props = function["Properties"]
    assert props["Timeout"] < 8
    connect = dynamo.CLIENT_CONFIG["connect_timeout"]
    read = dynamo.CLIENT_CONFIG["read_timeout"]
    attempts = dynamo.CLIENT_CONFIG["retries"]["total_max_attempts"]
    assert attempts * (connect + read) < props["Timeout"]
    assert props["MemorySize"] >= 512  # CPU scales with memory: a cold start must stay short


def test_function_is_invoked_by_this_skill_only_and_checks_its_id(template):
    _, function = _of_type(template, "AWS::Serverless::Function")
    events = function["Properties"]["Events"].values()
    assert [e["Properties"]["SkillId"] for e in events if e["Type"] == "AlexaSkill"] == [
        {"Ref": "SkillId"}]
    env = function["Properties"]["Environment"]["Variables"]
    assert env[settings.SKILL_ID_ENV] == {"Ref": "SkillId"}
    assert "SkillId" in template["Parameters"]


def test_table_is_on_demand_recoverable_and_expires_stale_records(template):
    _, table = _of_type(template, "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": dynamo.TTL_ATTRIBUTE,
                                                "Enabled": True}
    assert props["KeySchema"] == [{"AttributeName": dynamo.PARTITION_KEY, "KeyType": "HASH"}]


def test_table_is_named_retained_and_found_again_by_a_redeploy(template):
    """The name comes from a parameter, the table outlives the stack, and a new stack can use
    the kept table (TableExists=yes) instead of failing to create it again."""
    _, table = _of_type(template, "AWS::DynamoDB::Table")
    assert table["Properties"]["TableName"] == {"Ref": "TableName"}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert template["Parameters"]["TableName"]["Default"]
    assert table["Condition"] == "CreateTable"
    assert template["Conditions"]["CreateTable"] == {"Fn::Equals": [{"Ref": "TableExists"}, "no"]}
    _, function = _of_type(template, "AWS::Serverless::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables[settings.TABLE_ENV] == {"Ref": "TableName"}  # with or without the resource
    assert template["Outputs"]["UserTableName"]["Value"] == {"Ref": "TableName"}


def test_function_may_only_get_put_and_delete_items_of_its_table(template):
    _, function = _of_type(template, "AWS::Serverless::Function")
    statements = [s for policy in function["Properties"]["Policies"]
                  for s in policy["Statement"]]
    assert statements == [{
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:"
                                "${AWS::AccountId}:table/${TableName}"},
    }]


def test_logs_are_json_and_kept_for_a_bounded_time(template):
    logs, group = _of_type(template, "AWS::Logs::LogGroup")
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] <= 365
    _, function = _of_type(template, "AWS::Serverless::Function")
    config = function["Properties"]["LoggingConfig"]
    assert config["LogGroup"] == {"Ref": logs}
    assert config["LogFormat"] == "JSON" and config["ApplicationLogLevel"] == "INFO"


def test_each_deploy_publishes_a_version_behind_the_alias_the_skill_calls(template):
    function, props = _of_type(template, "AWS::Serverless::Function")
    assert props["Properties"]["AutoPublishAlias"] == "live"
    assert template["Outputs"]["SkillEndpointArn"]["Value"] == {"Ref": f"{function}.Alias"}


def test_the_alexa_trigger_is_granted_on_the_alias(template, monkeypatch):
    """SAM's own translation: the invoke permission is the alias's, for this skill only."""
    transform = pytest.importorskip("samtranslator.translator.transform")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    function, _ = _of_type(template, "AWS::Serverless::Function")
    template["Resources"][function]["Properties"]["CodeUri"] = "s3://bucket/artifact.zip"

    class NoManagedPolicies:
        def load(self):
            return {}

    out = transform.transform(template, {"SkillId": "amzn1.ask.skill.1", "AlarmTopicArn":
                                         "arn:aws:sns:us-west-2:123456789012:alarms"},
                              NoManagedPolicies())
    resources = out["Resources"]
    (alias,) = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Alias"]
    assert resources[alias]["Properties"]["Name"] == "live"
    (permission,) = [r["Properties"] for r in resources.values()
                     if r["Type"] == "AWS::Lambda::Permission"]
    assert permission["FunctionName"] == {"Ref": alias}
    assert permission["Principal"] == "alexa-appkit.amazon.com"
    assert permission["EventSourceToken"] == {"Ref": "SkillId"}


def _alarms(template: dict) -> dict:
    return {k: r["Properties"] for k, r in template["Resources"].items()
            if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_function_errors_and_throttles_raise_alarms_to_the_topic(template):
    function, _ = _of_type(template, "AWS::Serverless::Function")
    watched = {(a.get("Namespace"), a.get("MetricName")): a for a in _alarms(template).values()}
    for metric in ("Errors", "Throttles"):
        alarm = watched[("AWS/Lambda", metric)]
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]
        assert alarm["Threshold"] == 1
    assert "AlarmTopicArn" in template["Parameters"]
    assert "Default" not in template["Parameters"]["AlarmTopicArn"]


def test_the_spoken_apology_rate_raises_an_alarm(template, caplog):
    """The metric filter counts the very line ApologyHandler logs when it says sorry."""
    from skill.alexa.handlers import ApologyHandler

    logs, _ = _of_type(template, "AWS::Logs::LogGroup")
    _, metric_filter = _of_type(template, "AWS::Logs::MetricFilter")
    props = metric_filter["Properties"]
    assert props["LogGroupName"] == {"Ref": logs}
    term = props["FilterPattern"].strip('"')

    class Failing:  # a conversation whose apology we do not need: only the log line
        def apology(self, handler_input):
            return None

    class Input:
        context = None
        request_envelope = type("E", (), {"request": None})()

    with caplog.at_level("ERROR"):
        ApologyHandler(Failing()).handle(Input(), RuntimeError("store down"))
    assert any(term in r.getMessage() for r in caplog.records), term
    (transformation,) = props["MetricTransformations"]
    (rate,) = [a for a in _alarms(template).values() if "Metrics" in a]
    counted = [m for m in rate["Metrics"] if "MetricStat" in m
               and m["MetricStat"]["Metric"]["MetricName"] == transformation["MetricName"]]
    assert counted and counted[0]["MetricStat"]["Metric"]["Namespace"] == (
        transformation["MetricNamespace"])
    assert rate["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]
    assert rate["Threshold"] == {"Ref": "ApologyAlarmPercent"}
