"""ReportError carries what failed as attributes, as papermill's PapermillExecutionError does."""

import pickle

from connect_analysis.errors import ConnectAnalysisError, ReportError


def test_a_cell_failure_carries_its_facts():
    e = ReportError("notebook 03-images.ipynb failed in cell 4", notebook="03-images.ipynb",
                    cell_index=4, exec_count=3, ename="KeyError", evalue="'guid'",
                    run_record="/out/03-images.ipynb")
    assert isinstance(e, ConnectAnalysisError)
    assert str(e) == "notebook 03-images.ipynb failed in cell 4"
    assert (e.notebook, e.cell_index, e.exec_count, e.ename, e.evalue, e.run_record) == (
        "03-images.ipynb", 4, 3, "KeyError", "'guid'", "/out/03-images.ipynb")


def test_other_failures_leave_them_none():
    e = ReportError("quarto render failed (exit 1)")
    assert [getattr(e, f) for f in ReportError.FIELDS] == [None] * 6


def test_the_facts_survive_pickle():
    e = pickle.loads(pickle.dumps(ReportError("failed", notebook="a.ipynb", cell_index=2)))
    assert type(e) is ReportError and str(e) == "failed"
    assert (e.notebook, e.cell_index, e.ename) == ("a.ipynb", 2, None)
