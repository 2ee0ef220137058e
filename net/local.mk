# SPDX-License-Identifier: ISC
# net/: the network clients below directory/, smime/ and mail/: one HTTPS
# exchange over libcurl, and the Microsoft Graph client (OAuth 2.0 token
# cache, throttling) shared by the Entra ID source and the Graph mail
# transport. Plain parameter structs only: nothing here reads conf/.
noinst_LIBRARIES += libnet.a
libnet_a_SOURCES = \
	net/http.c net/http.h \
	net/graph.h net/graph_internal.h \
	net/graph_token.c net/graph_call.c
