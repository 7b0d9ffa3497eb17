/* SPDX-License-Identifier: Apache-2.0 */
/* source.h - the message the backend sends: composed from the document, or a message print2mail-compose already made. */
#ifndef P2M_SOURCE_H
#define P2M_SOURCE_H

#include <glib.h>

#include "p2m-job.h"

typedef struct p2m_source p2m_source;

/*
 * Open the job's document (argv[6] or standard input) and get ready to
 * stream the message.  When the input is message/rfc822 its header block is
 * read now and the recipients come from its To and Cc; otherwise the message
 * is composed from JOB (p2m_job_prepare done) with FROM as sender.
 * Errors: P2M_E_DOCUMENT (missing, unreadable, not a file, empty, no header
 * block), P2M_E_ADDRESS / P2M_E_NO_RECIPIENT (the composed message's headers).
 */
p2m_source *p2m_source_open(const p2m_job *job, const char *from, const char *from_name, GError **error);

/* Envelope recipients (To then Cc), NULL-terminated. */
const char *const *p2m_source_recipients(const p2m_source *s);
/* Document size when known (a file), else 0. */
guint64 p2m_source_document_size(const p2m_source *s);
/* The exact size of the message when it is known (composed from a regular
 * file: argv[6], or standard input when it is a file), else 0 (a pipe, or a
 * message passed through, whose bare LFs become CRLF on the way).  Reading
 * then fails with P2M_E_DOCUMENT if the document changes size meanwhile. */
guint64 p2m_source_message_size(const p2m_source *s);
/* A p2m_smtp_read_fn: the message with CRLF line ends. */
gssize p2m_source_read(void *source, char *buf, gsize len, GError **error);
void p2m_source_free(p2m_source *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_source, p2m_source_free)

#endif /* P2M_SOURCE_H */
