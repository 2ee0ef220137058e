# SPDX-License-Identifier: ISC
# Default message templates (data only), one directory per language. The
# binary looks for them in SMIMESYNC_DATADIR/templates/LANG; tests point
# SMIMESYNC_TEMPLATES_DIR at the source tree instead. Every language has
# every message, each as text and HTML (check-config renders them all).
templatesendir = $(pkgdatadir)/templates/en
dist_templatesen_DATA = \
	templates/en/collection.txt \
	templates/en/collection.html \
	templates/en/password.txt \
	templates/en/password.html \
	templates/en/reminder-renew.txt \
	templates/en/reminder-renew.html \
	templates/en/reminder-leaver.txt \
	templates/en/reminder-leaver.html \
	templates/en/reminder-install.txt \
	templates/en/reminder-install.html \
	templates/en/notice.txt \
	templates/en/notice.html
templatesdedir = $(pkgdatadir)/templates/de
dist_templatesde_DATA = \
	templates/de/collection.txt \
	templates/de/collection.html \
	templates/de/password.txt \
	templates/de/password.html \
	templates/de/reminder-renew.txt \
	templates/de/reminder-renew.html \
	templates/de/reminder-leaver.txt \
	templates/de/reminder-leaver.html \
	templates/de/reminder-install.txt \
	templates/de/reminder-install.html \
	templates/de/notice.txt \
	templates/de/notice.html
templatesfrdir = $(pkgdatadir)/templates/fr
dist_templatesfr_DATA = \
	templates/fr/collection.txt \
	templates/fr/collection.html \
	templates/fr/password.txt \
	templates/fr/password.html \
	templates/fr/reminder-renew.txt \
	templates/fr/reminder-renew.html \
	templates/fr/reminder-leaver.txt \
	templates/fr/reminder-leaver.html \
	templates/fr/reminder-install.txt \
	templates/fr/reminder-install.html \
	templates/fr/notice.txt \
	templates/fr/notice.html
