/* SPDX-License-Identifier: MIT */
/*
 * The aws_* keys of cyris.conf (defaults, checks, FILE:LINE errors), the
 * shape of a region name, and how AWS's error codes become -errno.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cyris/aws.h"
#include "cyris/conf.h"
#include "../../vm/aws/aws-priv.h"
#include "../tap.h"

static bool get_is(const struct cyris_conf *c, const char *key, const char *want)
{
	char buf[600];
	int r = cyris_conf_get(c, key, buf, sizeof(buf));

	if (r < 0 || strcmp(buf, want) != 0) {
		diag("%s: got '%s' (%d), want '%s'", key, r < 0 ? "" : buf, r, want);
		return false;
	}
	return true;
}

static bool set_fails(struct cyris_conf *c, const char *key, const char *v, const char *msg)
{
	struct cyris_error e = {0};
	int r = cyris_conf_set(c, key, v, &e);

	if (r != -EINVAL || strcmp(e.msg, msg) != 0) {
		diag("%s = %s: %d '%s'", key, v, r, e.msg);
		return false;
	}
	return true;
}

int main(void)
{
	struct cyris_conf *c = cyris_conf_new();
	struct cyris_error e = {0};
	char path[] = "/tmp/cyris-aws-conf-XXXXXX";
	char want[128];
	FILE *f;
	int fd;

	plan(26);
	ok(c && get_is(c, "aws_region", "us-west-2"), "aws_region defaults to us-west-2");
	ok(get_is(c, "aws_key_pair_name", "cyris-keypair"), "aws_key_pair_name defaults to cyris-keypair");
	ok(get_is(c, "aws_instance_type", "t3.micro"), "aws_instance_type defaults to t3.micro");
	ok(get_is(c, "aws_vpc_id", "") && get_is(c, "aws_subnet_id", "") && get_is(c, "aws_endpoint", ""),
	   "aws_vpc_id, aws_subnet_id and aws_endpoint default to none");

	ok(cyris_conf_set(c, "aws_region", "eu-central-1", &e) == 0 && get_is(c, "aws_region", "eu-central-1"),
	   "aws_region = eu-central-1");
	ok(cyris_conf_set(c, "aws_endpoint", "http://127.0.0.1:5000", &e) == 0 &&
	   get_is(c, "aws_endpoint", "http://127.0.0.1:5000"), "aws_endpoint = http://127.0.0.1:5000");
	ok(cyris_conf_set(c, "aws_vpc_id", "vpc-0abc", &e) == 0 && cyris_conf_set(c, "aws_subnet_id", "subnet-1", &e) == 0 &&
	   get_is(c, "aws_vpc_id", "vpc-0abc") && get_is(c, "aws_subnet_id", "subnet-1"), "aws_vpc_id and aws_subnet_id");
	ok(set_fails(c, "aws_region", "moon", "aws_region: 'moon' is not a region name (us-west-2)"),
	   "a region that is not one is refused");
	ok(set_fails(c, "aws_endpoint", "ftp://x", "aws_endpoint: 'ftp://x' is not an http:// or https:// URL"),
	   "an endpoint that is not http(s) is refused");
	ok(set_fails(c, "aws_vpc_id", "sg-1", "aws_vpc_id: 'sg-1' is not a VPC id (vpc-...)"), "a VPC id that is not one");
	ok(set_fails(c, "aws_subnet_id", "vpc-1", "aws_subnet_id: 'vpc-1' is not a subnet id (subnet-...)"),
	   "a subnet id that is not one");
	ok(set_fails(c, "aws_instance_type", "", "aws_instance_type: value must be 1..31 bytes"),
	   "an empty instance type");

	/* in a file: FILE:LINE */
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f) {
		fputs("# aws\naws_key_pair_name = lab\naws_region = us-east-1x\n", f);
		fclose(f);
	}
	setenv("CYRIS_CONFIG", path, 1);
	snprintf(want, sizeof(want), "%s:3: aws_region: 'us-east-1x' is not a region name (us-west-2)", path);
	ok(cyris_conf_load(c, &e) == -EINVAL && strcmp(e.msg, want) == 0, "a bad aws_region in the file: FILE:LINE (%s)", e.msg);
	unlink(path);

	/* AWS configured: keys, and a region that cyris.conf sets counts; its
	 * built-in default does not (no other region, no endpoint, no files) */
	setenv("AWS_ACCESS_KEY_ID", "AKIATESTCYRIS0000001", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "cyrisTestSecret/0123", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_EC2");
	cyris_conf_defaults(c);
	ok(cyris_ec2_configured(c, &e) == 0, "keys and only the default aws_region: AWS is not configured");
	ok(cyris_conf_set(c, "aws_region", "us-west-2", &e) == 0 && cyris_ec2_configured(c, &e) == 1,
	   "aws_region set (to the default's value): AWS is configured");
	cyris_conf_defaults(c);
	ok(cyris_conf_set(c, "aws_region", "eu-west-1", &e) == 0 && cyris_ec2_configured(c, &e) == 1,
	   "aws_region = eu-west-1: AWS is configured");

	ok(aws_region_name_ok("us-west-2") && aws_region_name_ok("us-gov-west-1") &&
	   aws_region_name_ok("ap-southeast-1") && aws_region_name_ok("cn-north-1"), "region names");
	ok(!aws_region_name_ok("moon") && !aws_region_name_ok("us-west") && !aws_region_name_ok("US-WEST-2") &&
	   !aws_region_name_ok("us--west-2") && !aws_region_name_ok("us-west-2-") && !aws_region_name_ok("us-west-2x") &&
	   !aws_region_name_ok("us-1-west"), "and what is not one");

	ok(aws_code_errno("AuthFailure", 401) == -EACCES && aws_code_errno("UnauthorizedOperation", 403) == -EACCES,
	   "AuthFailure, UnauthorizedOperation: -EACCES");
	ok(aws_code_errno("InvalidSubnetID.NotFound", 400) == -ENOENT && aws_code_errno("InvalidGroup.NotFound", 400) == -ENOENT,
	   "*.NotFound: -ENOENT");
	ok(aws_code_errno("DependencyViolation", 400) == -EBUSY, "DependencyViolation: -EBUSY");
	ok(aws_code_errno("InvalidGroup.Duplicate", 400) == -EEXIST, "*.Duplicate: -EEXIST");
	ok(aws_code_errno("VpcLimitExceeded", 400) == -EDQUOT && aws_code_errno("RequestLimitExceeded", 503) == -EAGAIN,
	   "VpcLimitExceeded: -EDQUOT; RequestLimitExceeded: -EAGAIN");
	ok(aws_code_errno("InvalidParameterValue", 400) == -EINVAL && aws_code_errno("MissingParameter", 400) == -EINVAL,
	   "InvalidParameter*, MissingParameter: -EINVAL");
	ok(aws_code_errno("SomethingNew", 400) == -EPROTO && aws_code_errno("SomethingNew", 502) == -EIO,
	   "an unknown code: -EPROTO, or -EIO for a 5xx");
	ok(aws_code_errno("", 403) == -EACCES && aws_code_errno("", 404) == -EPROTO && aws_code_errno("", 503) == -EIO,
	   "an answer without an EC2 error: by its HTTP status");
	cyris_conf_free(c);
	return done();
}
