/* SPDX-License-Identifier: Apache-2.0 */
/* source.h - the message the backend sends: composed from the document, or a message print2mail-compose already made. */
#ifndef BK_SOURCE_H
#define BK_SOURCE_H

#include <glib.h>

#include "p2m-job.h"

typedef struct bk_source bk_source;

/*
 * Open the job's document (argv[6] or standard input) and get ready to
 * stream the message.  When the input is message/rfc822 its header block is
 * read now and the recipients come from its To and Cc; otherwise the message
 * is composed from JOB (p2m_job_prepare done) with FROM as sender.
 * Errors: P2M_E_DOCUMENT (missing, unreadable, not a file, empty, no header
 * block), P2M_E_ADDRESS / P2M_E_NO_RECIPIENT (the composed message's headers).
 */
bk_source *bk_source_open(const p2m_job *job, const char *from, const char *from_name, GError **error);

/* Envelope recipients (To then Cc), NULL-terminated. */
const char *const *bk_source_recipients(const bk_source *s);
/* Document size when known (a file), else 0. */
guint64 bk_source_document_size(const bk_source *s);
/* The exact size of the message when it is known (composed from a regular
 * file: argv[6], or standard input when it is a file), else 0 (a pipe, or a
 * message passed through, whose bare LFs become CRLF on the way).  Reading
 * then fails with P2M_E_DOCUMENT if the document changes size meanwhile. */
guint64 bk_source_message_size(const bk_source *s);
/* A p2m_smtp_read_fn: the message with CRLF line ends. */
gssize bk_source_read(void *source, char *buf, gsize len, GError **error);
void bk_source_free(bk_source *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bk_source, bk_source_free)

#endif /* BK_SOURCE_H */
