/*
 * test_util.h — helpers shared by the harness's cmocka tests: a timeout
 * per test, a floating-point comparison that prints both numbers (this
 * cmocka has no assert_double_equal).
 */
#ifndef LEAKBENCH_TEST_UTIL_H
#define LEAKBENCH_TEST_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#define assert_near(a, b, eps)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps))) {                                                           \
            print_error("%s = %.17g, expected %.17g (within %g)\n", #a, a_, b_, (double)(eps));    \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static inline int lb_test_arm_timeout(void **state)
{
    (void)state;
    alarm(60);
    return 0;
}

#endif
