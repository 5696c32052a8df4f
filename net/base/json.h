/* SPDX-License-Identifier: MIT */
/*
 * The one JSON writer: a small streaming one, for the tools' -j output (one
 * code path prints text or JSON, as in iproute2) and the tunnel state files
 * (net/tunnel/tunnel-state.c, which also parses them back). Keys are
 * snake_case and stable. Not part of the library's ABI: the library has it
 * hidden, the tools link net/base/'s objects themselves.
 */
#ifndef CYRIS_JSON_H
#define CYRIS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

/* Version of the -j documents; bumped when a key changes meaning. */
#define CYRIS_JSON_SCHEMA 1

struct json {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f, bool pretty);

/* @key is NULL inside arrays and at the top level; a top-level object
 * begins with "schema": CYRIS_JSON_SCHEMA. */
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *val); /* NULL -> null */
void json_int(struct json *j, const char *key, long long val);
void json_uint(struct json *j, const char *key, unsigned long long val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);
void json_double(struct json *j, const char *key, double val);

/* Close the document: a newline after the top-level value. */
void json_end(struct json *j);

/* Write @s as a JSON string literal (with quotes). */
void json_escape(FILE *f, const char *s);

#endif
