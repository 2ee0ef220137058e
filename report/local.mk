# SPDX-License-Identifier: ISC
# report/: what a run is told as: the run report (JSON, text, HTML) and
# the Prometheus metrics written after each run.
noinst_LIBRARIES += libreport.a
libreport_a_SOURCES = \
	report/report.c report/report.h \
	report/report_html.c report/report_html.h \
	report/metrics.c report/metrics.h \
	report/progress.c report/progress.h

check_PROGRAMS += tests/unit/test_report_metrics
tests_unit_test_report_metrics_SOURCES = tests/unit/test_report_metrics.c tests/unit/check.h
tests_unit_test_report_metrics_LDADD = $(unit_test_libs)
TESTS += tests/unit/test_report_metrics
