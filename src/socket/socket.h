/* Socket library: the descriptor table naming control blocks. Layer: socket (top of the core). */
#ifndef US_SOCKET_SOCKET_H
#define US_SOCKET_SOCKET_H

#include <stddef.h>

struct us_stack;
int us_socket_table_init(struct us_stack *st);
void us_socket_table_destroy(struct us_stack *st);
/* Descriptors open now. */
size_t us_socket_open_count(const struct us_stack *st);

#endif
