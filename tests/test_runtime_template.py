"""The SAM template: valid for cfn-lint, the four tables as the contract keys them, and
IAM that grants each Lambda only the actions and tables it uses."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import lint_file
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "runtime" / "template.yaml"


def test_the_template_passes_cfn_lint():
    # warnings and informational matches count too: the template is to lint clean
    assert [str(m) for m in lint_file(TEMPLATE)] == []


def _template() -> dict:
    template, errors = decode(str(TEMPLATE))
    assert not errors
    return template


def test_the_four_tables_have_the_guide_keys_month_index_and_ttl():
    resources = _template()["Resources"]
    for logical in ("Costs", "Revenue", "Affiliate"):
        props = resources[f"{logical}Table"]["Properties"]
        assert [k["AttributeName"] for k in props["KeySchema"]] == ["user_phone", "timestamp"]
        index = props["GlobalSecondaryIndexes"][0]
        assert index["IndexName"] == "MonthIndex"
        assert [k["AttributeName"] for k in index["KeySchema"]] == ["month", "user_phone"]
        assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    tokens = resources["TokensTable"]["Properties"]
    assert [k["AttributeName"] for k in tokens["KeySchema"]] == ["user_phone"]
    assert "TimeToLiveSpecification" not in tokens


def test_each_lambda_may_touch_only_what_it_uses():
    resources = _template()["Resources"]
    granted = {}
    for name in ("MessageFunction", "PaymentWebhookFunction", "ClickFunction"):
        statements = resources[name]["Properties"]["Policies"][0]["Statement"]
        for st in statements:
            if "Fn::If" in st:  # the policy object, only where a bucket is given
                st = st["Fn::If"][1]
                assert st["Action"] == "s3:GetObject"
                continue
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources_of = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for res in resources_of:
                table = res["Fn::GetAtt"][0]
                granted.setdefault(name, {}).setdefault(table, set()).update(actions)
    read_put = {"dynamodb:BatchGetItem", "dynamodb:PutItem"}
    assert granted == {
        "MessageFunction": {"CostsTable": read_put | {"dynamodb:UpdateItem"},
                            "TokensTable": read_put},
        "PaymentWebhookFunction": {"RevenueTable": read_put, "TokensTable": read_put},
        "ClickFunction": {"AffiliateTable": read_put, "TokensTable": read_put},
    }


def test_the_lambda_package_imports_nothing_of_the_dashboard_duckdb_or_streamlit():
    import subprocess
    import sys

    blocked = ["dashboard", "duckdb", "streamlit", "pandas", "numpy", "loaders", "queries"]
    code = ("import sys\n"
            f"for name in {blocked!r}: sys.modules[name] = None\n"
            "import runtime, runtime.handlers, runtime.simulate\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
