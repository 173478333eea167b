/* Crash points, for tests only: armed through /_debug/crash (--debug-endpoints), the process ends at once at a
 * named point of a write, without cleanup, as a power cut or SIGKILL there would. Tests then show that a restart
 * reconciles what was left. Unarmed, a crash point costs one atomic load. */
#ifndef S3ORCH_UTIL_CRASH_POINT_H
#define S3ORCH_UTIL_CRASH_POINT_H

enum crash_point {
    CRASH_NONE,
    CRASH_PUT_BEFORE_COMMIT,        /* the copies are written, the object not committed */
    CRASH_REPLICATED_AFTER_COMMIT,  /* a replicated PUT committed, its other copies' intents not yet dropped */
};

#define CRASH_POINT_EXIT 70 /* the exit code of a crash point, told apart from a real crash */

/* CRASH_NONE disarms. */
void crash_point_arm(enum crash_point p);
/* Ends the process if p is armed. */
void crash_point(enum crash_point p);
/* The point a name ("put-before-commit", "replicated-after-commit") names, or CRASH_NONE. */
enum crash_point crash_point_named(const char *name);

#endif
