"""nbgrader's OverwriteCells without its false alarm on hidden test cells (nbgrader #1961).

``nbgrader generate_assignment`` saves each locked cell's checksum to the gradebook *before*
ClearHiddenTests runs, so the released test cell, whose hidden region is gone, never matches
it. ``nbgrader autograde`` then warns "Attribute 'checksum' ... has changed!" for every test
cell with hidden tests, for every student, although nobody touched them, and restores the
source from the gradebook (which is how the hidden tests come back).

This subclass keeps that restoring. It only stays quiet when the submitted source is exactly
the released one: the gradebook's source with its hidden region cleared. Any other change to
a locked cell is still reported, in nbgrader's own words.
"""
import copy

from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells


class OverwriteCellsKnowingHiddenTests(OverwriteCells):
    """OverwriteCells that expects released test cells to lack their hidden region."""

    def preprocess_cell(self, cell, resources, cell_index):
        self._released_as_is = False
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            try:
                source_cell = self.gradebook.find_source_cell(
                    grade_id, self.notebook_id, self.assignment_id)
            except Exception:          # unknown cell: let OverwriteCells report it
                source_cell = None
            if source_cell is not None and source_cell.locked:
                released = copy.deepcopy(cell)
                released.source = source_cell.source
                clear = ClearHiddenTests(config=self.config)
                clear._remove_hidden_test_region(released)
                self._released_as_is = (released.source != source_cell.source
                                        and cell.source == released.source)
        return super().preprocess_cell(cell, resources, cell_index)

    def report_change(self, name, attr, old, new):
        if attr == "checksum" and self._released_as_is:
            self.log.debug("Cell %s: hidden tests restored from the gradebook", name)
            return
        super().report_change(name, attr, old, new)
