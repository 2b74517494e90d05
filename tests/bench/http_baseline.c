/*
 * http_baseline - the floor for the API's HTTP layer: libmicrohttpd with
 * the same threading options as showcase-api, answering every request
 * with a fixed "200 OK" body and doing nothing else.
 *
 * usage: bench-http-baseline PORT THREADS   (runs until SIGTERM/SIGINT)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <microhttpd.h>

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	static const char body[] = "{\"status\":\"ok\"}";
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls; (void)url; (void)method; (void)version; (void)upload_data;
	if (!*con_cls) {
		/* Answering on the first call (headers only) makes
		 * libmicrohttpd close the connection, as it cannot know the
		 * body was read: answer on the next call, as the API does. */
		*con_cls = (void *)1;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	sigset_t sigs;
	int sig;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-http-baseline PORT THREADS\n");
		return 2;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
			     (uint16_t)atoi(argv[1]), NULL, NULL, answer, NULL,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]),
			     MHD_OPTION_CONNECTION_TIMEOUT, 30u,
			     MHD_OPTION_CONNECTION_LIMIT, 1024u,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bench-http-baseline: cannot listen on %s\n", argv[1]);
		return 1;
	}
	sigwait(&sigs, &sig);
	MHD_stop_daemon(d);
	return 0;
}
