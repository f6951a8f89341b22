"""LRB batch files: the portal's CSV and XML learner upload format, read as a stream, checked,
and written.

An LRB file is named ``LRB_<UKPRN>_<DDMMYYYYHHMM>.CSV`` or ``.XML`` (upper-case extension; the
extension gives the format). It carries four header values (FileVersion ``2A``, FileName,
UKPRN, LearnerRecordCount) and one learner per row or ``BatchLearner`` element, each with the
26 MIAP ``BatchLearner`` fields (``lrs_ws.contract.learner_fields.BATCH_FIELDS``).

* **CSV**: row 1 holds the 30 headings (``CSV_HEADINGS``: the four header names, then the
  BatchLearner names, two of them spelt the portal's way: ``FamilyNameAt16`` and
  ``LastKnownAddressCountyorCity``), case-sensitive and in order. Row 2 holds the header values
  *and* the first learner; on later rows the four header columns are empty. Every row has 30
  cells. UTF-8, with or without a BOM. Blank rows at the end are ignored; a blank row between
  learner rows is a problem.
* **XML** (our reading): root ``{http://api.lrs.miap.gov.uk/batchmsg}LRBBatchFile`` holding
  the unqualified FileVersion, FileName, UKPRN and LearnerRecordCount, then one
  ``batchmsg:BatchLearner`` per learner whose unqualified children are BatchLearner fields in
  schema order (``xsd/batch-messages.xsd``). Read with ``lxml.etree.iterparse``, one learner at
  a time, with no DTD, no entities and no network; a DOCTYPE is refused.

Every learner field is checked against the facets of its simple type in ``xsd/learner.xsd``
(lengths, patterns, enumerations), compiled once to Python regular expressions; date fields
must also be real calendar dates. An empty cell or empty or absent element means "not
supplied" and is fine, except for the mandatory GivenName and FamilyName (our reading: a CSV
cannot tell empty from absent, so an empty AbilityToShare or VerificationType element is
accepted too, although the XSD types do not allow the empty string). The patterns are
translated by elementpath (a dependency of xmlschema), as xmlschema does.

Rows are numbered as the user sees them. In a CSV file that is the spreadsheet row: row 1 is
the headings, row 2 the first learner (a cell holding a line break does not start a new row).
In an XML file learners are numbered 1..n in document order and problems say ``learner N``;
structural problems also give the element's source line.

The modules, one concern each: ``layout`` (formats, tags, headings; ``Problem``, ``Header``,
``LearnerRow``), ``names`` (file names), ``checks`` (the field checks compiled from the XSD),
``reading`` (``open_lrb``), ``validation`` (``validate``) and ``writing``.

API
---
``layout.Problem(row, column, reason, unit="row")``
    One problem; ``str()`` gives ``row 5, DateOfBirth: ...`` (``learner 5, ...`` in XML),
    ``row 1: ...`` without a column, ``file name: ...`` or ``UKPRN: ...`` for a file-level
    problem without a row, and ``file: ...`` with neither.
``layout.Header(file_version, file_name, ukprn, learner_record_count)``
    The header values as read (``learner_record_count`` is an int, or None when not a number).
``layout.LearnerRow(row, fields, problems)``
    One learner: ``fields`` maps wire names (BATCH_FIELDS) to the text of the supplied
    (non-empty) cells, valid or not; ``problems`` are that row's cell and structure problems.
``reading.open_lrb(path, *, name=None, ukprn=None) -> LrbReader``
    Opens the file (``OSError`` if it cannot be read) and reads the headings and header.
    ``LrbReader`` is a context manager with ``.format`` ("CSV" or "XML"), ``.name``,
    ``.header`` (``Header``, or None when the headings, the root or the header row are
    missing), ``.rows()`` (a generator of ``LearnerRow``, streaming, once only),
    ``.file_problems`` (a list that grows as the file is read: name, headings or root, header
    values, header cells on later rows, blank rows, unreadable data; the LearnerRecordCount
    check is appended when ``rows()`` runs to its end), ``.learner_rows`` and ``.bytes_read``.
    ``name`` is the file's name as uploaded when ``path`` is a temporary copy; ``ukprn`` is
    the submitting organisation's, checked against the name and the header when given. When
    the file cannot be read as an LRB file at all (headings, root, not UTF-8, not well-formed
    XML), ``rows()`` yields nothing more and ``.fatal`` is true.
``validation.validate(path, *, ukprn=None, name=None, progress=None) -> Validation``
    One streaming pass: iterate the result (once) for every problem in file order; when the
    iteration ends, ``.learner_rows``, ``.rows_with_problems``, ``.file_problem_count``,
    ``.row_problem_count``, ``.problem_count``, ``.ok`` and ``.summary()`` (the report's last
    line) are final. ``progress(bytes_read)`` is called every 1,000 learners (``.size`` is the
    file's size). The file is opened at once (``OSError``); a context manager closes it.
``checks.check_field(wire_name, value) -> str | None``
    The reason a non-empty BatchLearner value breaks its facets, or None. (Whether a UKPRN is
    well formed: ``lrs_ws.domain.organisation.is_ukprn``.)
``writing.write_lrb(path, header, learners, *, fmt=None) -> int``
    Write an input file (CSV or XML; by default from the path's extension), streaming; returns
    the number of learners written. Learners are mappings wire name -> text; empty or absent
    fields are left out (XML) or empty (CSV).
``writing.write_output(path, fmt, header, rows) -> int``
    Write a job's output file: rows are ``(fields as sent, ReturnCode)``; CSV gets the 30 input
    headings plus ``ReturnCode`` (header values on the first data row only), XML gets
    ``LRBBatchOutputFile`` with ``OutputBatchLearner`` children. Streaming (``etree.xmlfile``).
``names.output_file_name(input_name) -> str``
    ``LRB_<UKPRN>_<DDMMYYYYHHMM>_OUTPUT.CSV`` (or ``.XML``) for a valid input name.
``names.file_name_for(ukprn, moment, fmt) -> str``
    The name of an input file made at ``moment``.
"""
