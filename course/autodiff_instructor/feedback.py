"""nbgrader's feedback without hidden tests (configured in course/nbgrader_config.py).

``nbgrader generate_feedback`` renders the autograded notebook, in which every test cell holds
the source version of its test, hidden part included, and a failed test's traceback quotes
that code and the lines of the checks it ran. Before nbgrader's own ``ClearHiddenTests``
strips the hidden region from the source, this preprocessor cuts the traceback of every cell
with a hidden region down to its last line: the check's message (what failed, and a hint).
"""
from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN = "BEGIN HIDDEN TESTS"


class HideHiddenTestDetails(NbGraderPreprocessor):
    """Error outputs of hidden test cells keep their message and lose their traceback."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and BEGIN in cell.source:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
