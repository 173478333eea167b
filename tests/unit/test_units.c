/* Small parsers and formatters: durations, sizes, CPU quotas, XML escaping. */
#include <errno.h>

#include "config/config_units.h"
#include "s3/s3_xml.h"
#include "server/cpu.h"
#include "unit.h"

static void test_durations(void)
{
    int64_t v;
    CHECK_EQ(config_parse_duration("0", &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(config_parse_duration("30s", &v), 0);
    CHECK_EQ(v, 30000000000LL);
    CHECK_EQ(config_parse_duration("250ms", &v), 0);
    CHECK_EQ(v, 250000000LL);
    CHECK_EQ(config_parse_duration("1h30m", &v), 0);
    CHECK_EQ(v, 5400000000000LL);
    CHECK_EQ(config_parse_duration("1.5s", &v), 0);
    CHECK_EQ(v, 1500000000LL);
    CHECK_EQ(config_parse_duration("10us", &v), 0);
    CHECK_EQ(v, 10000);
    CHECK_EQ(config_parse_duration("5", &v), -EINVAL);
    CHECK_EQ(config_parse_duration("", &v), -EINVAL);
    CHECK_EQ(config_parse_duration("s", &v), -EINVAL);
    CHECK_EQ(config_parse_duration("5 s", &v), -EINVAL);
    CHECK_EQ(config_parse_duration("5S", &v), -EINVAL);
    CHECK_EQ(config_parse_duration("-5s", &v), -ERANGE);
    CHECK_EQ(config_parse_duration("99999999999999h", &v), -ERANGE);
    CHECK_EQ(config_parse_duration("1.s", &v), -EINVAL);
}

static void test_sizes(void)
{
    int64_t v;
    CHECK_EQ(config_parse_size("4096", &v), 0);
    CHECK_EQ(v, 4096);
    CHECK_EQ(config_parse_size("64KiB", &v), 0);
    CHECK_EQ(v, 65536);
    CHECK_EQ(config_parse_size("500MB", &v), 0);
    CHECK_EQ(v, 500000000LL);
    CHECK_EQ(config_parse_size("10GiB", &v), 0);
    CHECK_EQ(v, 10LL << 30);
    CHECK_EQ(config_parse_size("5TiB", &v), 0);
    CHECK_EQ(v, 5LL << 40);
    CHECK_EQ(config_parse_size("10gb", &v), 0);
    CHECK_EQ(v, 10000000000LL);
    CHECK_EQ(config_parse_size("1.5KiB", &v), 0);
    CHECK_EQ(v, 1536);
    CHECK_EQ(config_parse_size("12XB", &v), -EINVAL);
    CHECK_EQ(config_parse_size("1.5", &v), -EINVAL);
    CHECK_EQ(config_parse_size("GiB", &v), -EINVAL);
    CHECK_EQ(config_parse_size("-1", &v), -ERANGE);
    CHECK_EQ(config_parse_size("9999999999TiB", &v), -ERANGE);
}

static void test_cpu_quota(void)
{
    CHECK_EQ(cpu_quota_parse_v2("max 100000\n"), -1);
    CHECK_EQ(cpu_quota_parse_v2("100000 100000\n"), 1);
    CHECK_EQ(cpu_quota_parse_v2("150000 100000"), 2);
    CHECK_EQ(cpu_quota_parse_v2("50000 100000"), 1);
    CHECK_EQ(cpu_quota_parse_v2("400000 100000"), 4);
    CHECK_EQ(cpu_quota_parse_v2("garbage"), -1);
    CHECK_EQ(cpu_quota_parse_v1(-1, 100000), -1);
    CHECK_EQ(cpu_quota_parse_v1(250000, 100000), 3);

    cpu_set_t set;
    int n = cpu_usable(&set);
    CHECK(n >= 1);
    CHECK(n <= CPU_COUNT(&set));
    CHECK(cpu_nth(&set, 0) >= 0);
    CHECK_EQ(cpu_nth(&set, CPU_COUNT(&set)), cpu_nth(&set, 0));
}

static void test_xml(void)
{
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "R", "http://s3.amazonaws.com/doc/2006-03-01/");
    s3_xml_element(&x, "Key", "a<b>&\"c'\r");
    s3_xml_close(&x, "R");
    CHECK(!x.overflow);
    CHECK_STR(x.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Key>a&lt;b&gt;&amp;&quot;c&apos;&#13;</Key></R>");
    s3_xml_free(&x);
}

int main(void)
{
    RUN(test_durations);
    RUN(test_sizes);
    RUN(test_cpu_quota);
    RUN(test_xml);
    return unit_finish("units");
}
