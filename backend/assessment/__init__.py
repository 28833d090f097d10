"""The quantified assessment (量化考核): per jurisdiction or agency and month or quarter,
the figures of the incidents and tasks (computed by the database), a configurable score
and the ranking. Owns ``dutydesk report assessment`` and ``report.assessment``'s work;
the workbook is :mod:`realtime.assessment_book`."""
