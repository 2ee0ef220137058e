/* SPDX-License-Identifier: ISC */
/*
 * Private to mail/: turn off Nagle's algorithm on libESMTP's socket.
 *
 * libESMTP writes the end of each message (the last body bytes and the
 * "." line) as a small segment after a larger one. With Nagle on, the
 * kernel holds that segment until the server ACKs the previous one, and
 * the server delays its ACK (40 ms on Linux) because it has nothing to
 * send yet: every message costs a fixed 40 ms, capping a session at about
 * 22 messages a second however fast both ends are. libESMTP 1.1 neither
 * sets TCP_NODELAY nor hands out its socket, so once it has connected
 * (the SMTP_EV_CONNECT event) we find the socket ourselves: a connected
 * TCP socket whose peer port is the SMTP server's. TCP_NODELAY only
 * changes when small segments leave, so setting it on another connection
 * to the same port would be harmless.
 */
#ifndef SMIMESYNC_MAIL_NODELAY_H
#define SMIMESYNC_MAIL_NODELAY_H

/* Returns how many sockets were changed (0 when none was found). */
int tcp_nodelay_to_port(unsigned port);

#endif
