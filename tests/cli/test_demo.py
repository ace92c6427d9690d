"""`autograder demo`: the cross-check table, and a clear error for an unknown op."""

from click.testing import CliRunner

from autograder.cli import main


def test_demo_prints_a_table_and_agrees():
    result = CliRunner().invoke(main, ["demo", "--examples", "5", "--op", "conv_forward", "--op", "max_pool_backward"])
    assert result.exit_code == 0, result.output
    assert "conv_forward" in result.output and "max_pool_backward" in result.output
    assert "All 2 ops agree to 1e-10" in result.output


def test_demo_unknown_op_says_what_to_do():
    result = CliRunner().invoke(main, ["demo", "--op", "conv_forwad"])
    assert result.exit_code == 2
    assert "no op named conv_forwad" in result.output
