/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "sync/mail_queue.h"
#include "sync/admin_notice.h"

#define NOTICE_MAX_ERRORS 50

static void
notice_group(struct engine *en, const struct conf_group *g)
{
	struct tmpl_vars *vars = tmpl_vars_new();
	char *summary = report_summary_text(en->report);
	char *errors = report_error_lines(en->report, g->name, NOTICE_MAX_ERRORS);
	char *list = xstrdup(g->notify), *save = NULL, *addr;
	char lang[32];
	struct errbuf e;

	if (mailq_sender_vars(en, vars, &e) != 0) {
		report_error(en->report, NULL, "notice", "%s", e.text);
		goto out;
	}
	/* Admins read the group's language. */
	mailq_language(en, g, NULL, lang, sizeof(lang));
	tmpl_vars_set(vars, "group", g->name);
	tmpl_vars_set(vars, "status", report_status_so_far(en->report));
	tmpl_vars_set(vars, "summary", summary);
	tmpl_vars_set(vars, "errors", errors);
	for (addr = strtok_r(list, ",", &save); addr != NULL; addr = strtok_r(NULL, ",", &save)) {
		struct mailq_to to = { str_trim(addr), NULL, NULL, 0, lang };
		char *data = NULL;
		size_t len = 0;

		if (mailq_render(en, "notice", vars, &to, NULL, 0, &data, &len, &e) != 0 ||
		    store_begin(en->store, &e) != 0) {
			report_error(en->report, NULL, "notice", "%s", e.text);
			free(data);
			continue;
		}
		if (mailq_add(en, "notice", &to, data, len, &e) != 0 ||
		    store_commit(en->store, &e) != 0) {
			store_rollback(en->store);
			report_error(en->report, NULL, "notice", "[group %s] notice to %s: %s",
			    g->name, to.addr, e.text);
		} else {
			report_count(en->report, "mails_queued", 1);
			log_info("[group %s] notice queued for %s", g->name, to.addr);
		}
		free(data);
	}
out:
	free(list);
	free(summary);
	free(errors);
	tmpl_vars_free(vars);
}

void
notice_queue(struct engine *en)
{
	const struct config *cfg = en->cfg;

	if (!cfg->has_mail)
		return;
	for (size_t gi = 0; gi < cfg->n_groups; gi++) {
		const struct conf_group *g = &cfg->groups[gi];
		size_t acted = 0, failed = 0;

		if (g->notify == NULL || !g->enabled)
			continue;
		report_group_activity(en->report, g->name, &acted, &failed);
		/* Run-wide errors (a group that failed to read) concern every group. */
		if (acted == 0 && failed == 0 && strcmp(report_status_so_far(en->report), "ok") == 0)
			continue;
		notice_group(en, g);
	}
}
