# SPDX-License-Identifier: ISC
# Default message templates (data only). The binary looks for them in
# SMIMESYNC_DATADIR/templates/LANG; tests point SMIMESYNC_TEMPLATES_DIR at
# the source tree instead.
templatesdir = $(pkgdatadir)/templates/en
dist_templates_DATA = \
	templates/en/collection.txt \
	templates/en/collection.html \
	templates/en/password.txt \
	templates/en/password.html \
	templates/en/reminder-renew.txt \
	templates/en/reminder-leaver.txt \
	templates/en/reminder-install.txt \
	templates/en/notice.txt
