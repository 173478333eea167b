/* The figures, as text for people or one JSON object for scripts (--json). Latencies are of successful requests,
 * from the first byte sent (or the connect, on a new connection) to the last byte of the response. MB/s counts
 * object bytes (bodies sent by PUTs, received by GETs) in 10^6 bytes per second. */
#include <stdio.h>

#include "s3load.h"

static const char *const op_names[OP_COUNT] = {[OP_GET] = "get", [OP_PUT] = "put"};
static const char *const work_names[] = {[WORK_PUT] = "put", [WORK_GET] = "get", [WORK_MIXED] = "mixed"};
static const char *const sink_names[] = {
    [HC_SINK_RECV] = "recv", [HC_SINK_TRUNC] = "trunc", [HC_SINK_SPLICE] = "splice"};

static double ms(uint64_t ns) { return (double)ns / 1e6; }

struct figures {
    uint64_t ops, bytes;
    struct hist lat;
};

/* One op's figures, or all ops' (op == OP_COUNT). */
static void figures_of(const struct stats *st, int op, struct figures *f)
{
    f->ops = f->bytes = 0;
    hist_init(&f->lat);
    for (int i = 0; i < OP_COUNT; i++) {
        if (op != OP_COUNT && op != i)
            continue;
        f->ops += st->ok[i];
        f->bytes += st->bytes[i];
        hist_merge(&f->lat, &st->lat[i]);
    }
}

static void text_row(const char *name, const struct figures *f, double secs)
{
    printf("%-5s %10llu %11.1f %10.2f %9.3f %9.3f %9.3f %9.3f\n", name, (unsigned long long)f->ops,
           (double)f->ops / secs, (double)f->bytes / secs / 1e6, ms(hist_quantile(&f->lat, 0.5)),
           ms(hist_quantile(&f->lat, 0.99)), ms(hist_quantile(&f->lat, 0.999)), ms(f->lat.max_ns));
}

static void text_errors(const struct stats *st)
{
    printf("errors: %llu", (unsigned long long)stats_errors(st));
    const char *sep = " (";
    for (int i = 0; i < 600; i++)
        if (st->status[i]) {
            printf("%s%d: %llu", sep, i, (unsigned long long)st->status[i]);
            sep = ", ";
        }
    for (int i = 0; i < FAIL_COUNT; i++)
        if (st->fail[i]) {
            printf("%s%s: %llu", sep, fail_name(i), (unsigned long long)st->fail[i]);
            sep = ", ";
        }
    printf("%s\n", sep[0] == ',' ? ")" : "");
}

void report_text(const struct opts *o, const struct result *r)
{
    static struct figures f; /* a histogram is too big for a stack frame to be polite */
    printf("s3load %s", work_names[o->work]);
    if (o->work == WORK_MIXED)
        printf(" (%.0f%% GET)", o->get_ratio * 100);
    printf(", %lld-byte objects, %ld keys, %u threads, %ld connections%s", (long long)o->size, o->keys, r->threads,
           r->concurrency, o->keep_alive ? "" : " (no keep-alive)");
    if (o->rate)
        printf(", open loop at %ld/s", o->rate);
    printf(", %s; %s %.3f s\n",
           o->signed_payload ? "signed payload" : "UNSIGNED-PAYLOAD", r->phase, r->seconds);
    printf("%-5s %10s %11s %10s %9s %9s %9s %9s\n", "", "ops", "ops/s", "MB/s", "p50 ms", "p99 ms", "p999 ms",
           "max ms");
    for (int i = 0; i < OP_COUNT; i++) {
        figures_of(&r->st, i, &f);
        if (f.ops)
            text_row(op_names[i], &f, r->seconds);
    }
    figures_of(&r->st, OP_COUNT, &f);
    text_row("all", &f, r->seconds);
    text_errors(&r->st);
    if (r->st.late)
        printf("late: %llu (still running when the phase ended; not counted)\n", (unsigned long long)r->st.late);
    printf("client cpu: %.2f s (%.0f%% of one core)\n", r->cpu_seconds, r->cpu_seconds / r->seconds * 100);
}

static void json_figures(const struct figures *f, double secs)
{
    printf("\"ops\": %llu, \"ops_per_s\": %.1f, \"mb_per_s\": %.3f, \"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f, "
           "\"p999\": %.3f, \"max\": %.3f, \"mean\": %.3f}",
           (unsigned long long)f->ops, (double)f->ops / secs, (double)f->bytes / secs / 1e6,
           ms(hist_quantile(&f->lat, 0.5)), ms(hist_quantile(&f->lat, 0.99)), ms(hist_quantile(&f->lat, 0.999)),
           ms(f->lat.max_ns), f->lat.count ? ms(f->lat.sum_ns / f->lat.count) : 0.0);
}

static void json_result(const struct result *r)
{
    static struct figures f;
    printf("\"phase\": \"%s\", \"seconds\": %.3f, \"cpu_s\": %.3f, ", r->phase, r->seconds, r->cpu_seconds);
    figures_of(&r->st, OP_COUNT, &f);
    json_figures(&f, r->seconds);
    printf(", \"errors\": %llu, \"errors_by_status\": {", (unsigned long long)stats_errors(&r->st));
    const char *sep = "";
    for (int i = 0; i < 600; i++)
        if (r->st.status[i]) {
            printf("%s\"%d\": %llu", sep, i, (unsigned long long)r->st.status[i]);
            sep = ", ";
        }
    for (int i = 0; i < FAIL_COUNT; i++)
        if (r->st.fail[i]) {
            printf("%s\"%s\": %llu", sep, fail_name(i), (unsigned long long)r->st.fail[i]);
            sep = ", ";
        }
    printf("}, \"late\": %llu, \"by_op\": {", (unsigned long long)r->st.late);
    sep = "";
    for (int i = 0; i < OP_COUNT; i++) {
        figures_of(&r->st, i, &f);
        printf("%s\"%s\": {", sep, op_names[i]);
        json_figures(&f, r->seconds);
        printf("}");
        sep = ", ";
    }
    printf("}");
}

void report_json(const struct opts *o, const struct result *prep, const struct result *r)
{
    printf("{\"op\": \"%s\", \"get_ratio\": %.3f, \"size\": %lld, \"keys\": %ld, \"threads\": %u, "
           "\"concurrency\": %ld, \"rate\": %ld, \"keep_alive\": %s, \"payload\": \"%s\", \"get_sink\": \"%s\", ",
           work_names[o->work], o->work == WORK_MIXED ? o->get_ratio : o->work == WORK_GET ? 1.0 : 0.0,
           (long long)o->size, o->keys, r->threads, r->concurrency, o->rate, o->keep_alive ? "true" : "false",
           o->signed_payload ? "signed" : "unsigned", sink_names[o->sink]);
    if (prep) {
        printf("\"prepare\": {");
        json_result(prep);
        printf("}, ");
    }
    json_result(r);
    printf("}\n");
}
