/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <string.h>
#include <time.h>

#include "sync/admin.h"

int
admin_open(const struct config *cfg, bool need_master_key, struct engine *en, struct errbuf *e)
{
	engine_init(en, cfg);
	en->now = time(NULL);
	engine_new_run_id(en->run_id, sizeof(en->run_id), en->now);
	if (engine_start_signer(en, e) != 0 ||
	    store_open(cfg->service.state_dir, &en->store, e) != 0 ||
	    store_lock(en->store, e) != 0)
		goto fail;
	if (need_master_key &&
	    master_key_load(cfg->service.master_key_file, &en->master_key, e) != 0)
		goto fail;
	return 0;
fail:
	admin_close(en);
	return -1;
}

void
admin_close(struct engine *en)
{
	struct store *st = en->store;

	engine_close(en);
	store_close(st);
	en->store = NULL;
}

const struct conf_group *
admin_find_group(const struct config *cfg, const char *name)
{
	for (size_t i = 0; name != NULL && i < cfg->n_groups; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return &cfg->groups[i];
	return NULL;
}
