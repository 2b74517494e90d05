"""Assertions on deploy/aws/showcase.yaml: the properties that matter.

usage: cfn_check.py TEMPLATE GRACE_S STOP_TIMEOUT_S
Prints one line per check, "ok ..." or "FAIL ...", and exits 1 if any
failed.  GRACE_S is WORKER_GRACE_S's default and STOP_TIMEOUT_S the
worker unit's TimeoutStopSec: the scale-in hook must outlast both.
"""
import re
import sys

import yaml


class Loader(yaml.SafeLoader):
    pass


def intrinsic(loader, suffix, node):
    """!Ref x -> {"Ref": x}, !GetAtt a.b -> {"Fn::GetAtt": [a, b]}, ..."""
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + suffix: value}


Loader.add_multi_constructor("!", intrinsic)

failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def of_type(res, kind):
    return {k: v for k, v in res.items() if v["Type"] == kind}


def main():
    path, grace, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    text = open(path).read()
    t = yaml.load(text, Loader=Loader)
    res, params = t["Resources"], t["Parameters"]

    # the worker group: scaled on the backlog, bounds from parameters
    groups = of_type(res, "AWS::AutoScaling::AutoScalingGroup")
    worker = groups["WorkerGroup"]["Properties"]
    check(worker["MinSize"] == {"Ref": "WorkerMinSize"} and
          worker["MaxSize"] == {"Ref": "WorkerMaxSize"},
          "worker group min and max are the WorkerMinSize/WorkerMaxSize parameters")
    policies = [p["Properties"] for p in of_type(res, "AWS::AutoScaling::ScalingPolicy").values()
                if p["Properties"]["AutoScalingGroupName"] == {"Ref": "WorkerGroup"}]
    metric = policies[0]["TargetTrackingConfiguration"] if policies else {}
    spec = metric.get("CustomizedMetricSpecification", {})
    check(len(policies) == 1 and spec.get("Namespace") == "Showcase" and
          spec.get("MetricName") == "BacklogPerWorker" and
          metric.get("TargetValue") == {"Ref": "BacklogPerWorkerTarget"},
          "worker group tracks Showcase/BacklogPerWorker at BacklogPerWorkerTarget")
    target = params["BacklogPerWorkerTarget"]["Default"]
    check(0 < float(target) <= 10, "backlog target %s is sane" % target)

    # scale-in does not lose work: the hook outlasts the grace period
    hooks = worker.get("LifecycleHookSpecificationList", [])
    term = [h for h in hooks if h["LifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"]
    timeout = term[0]["HeartbeatTimeout"] if term else None
    if isinstance(timeout, dict):
        p = params[timeout["Ref"]]
        low = int(p.get("MinValue", p["Default"]))
        check(low > grace + stop,
              "termination hook's lowest timeout %d s > grace %d s + stop timeout %d s" % (low, grace, stop))
    else:
        check(timeout is not None and int(timeout) > grace + stop,
              "termination hook timeout %s > grace + stop timeout" % timeout)
    check(term and term[0].get("DefaultResult") == "CONTINUE", "the hook continues termination when it times out")
    check(params["WorkerGraceSeconds"]["Default"] == grace,
          "WorkerGraceSeconds default equals WORKER_GRACE_S (%d)" % grace)

    # the API group: at least 2, behind the load balancer, target tracking
    api = groups["ApiGroup"]["Properties"]
    check(int(api["MinSize"]) >= 2 and api.get("TargetGroupARNs"), "API group: min 2, behind the ALB")
    check(any(p["Properties"]["AutoScalingGroupName"] == {"Ref": "ApiGroup"} and
              p["Properties"]["PolicyType"] == "TargetTrackingScaling"
              for p in of_type(res, "AWS::AutoScaling::ScalingPolicy").values()),
          "API group has a target tracking policy")

    # nothing stateful is public
    private = [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}]
    for name, db in of_type(res, "AWS::RDS::DBInstance").items():
        p = db["Properties"]
        subnets = res[p["DBSubnetGroupName"]["Ref"]]["Properties"]["SubnetIds"]
        check(p.get("PubliclyAccessible") is False and subnets == private and
              p.get("StorageEncrypted") is True,
              "%s: not public, private subnets, encrypted" % name)
    for name, c in of_type(res, "AWS::ElastiCache::ReplicationGroup").items():
        p = c["Properties"]
        subnets = res[p["CacheSubnetGroupName"]["Ref"]]["Properties"]["SubnetIds"]
        policy = res[p["CacheParameterGroupName"]["Ref"]]["Properties"]["Properties"]
        check(subnets == private and policy.get("maxmemory-policy") == "noeviction",
              "%s: private subnets, noeviction" % name)
    for name, sg in of_type(res, "AWS::EC2::SecurityGroup").items():
        for rule in sg["Properties"].get("SecurityGroupIngress", []):
            if rule.get("CidrIp") == "0.0.0.0/0":
                check(name == "LoadBalancerSecurityGroup" and rule["FromPort"] in (80, 443),
                      "%s: open to the internet only as the load balancer on 80/443" % name)
    # with a certificate: HTTPS (TLS 1.2 at least) and port 80 only redirects
    listeners = of_type(res, "AWS::ElasticLoadBalancingV2::Listener")
    https = [(n, l) for n, l in listeners.items() if l["Properties"].get("Protocol") == "HTTPS"]
    check(len(https) == 1 and https[0][1].get("Condition") == "HasCertificate" and
          https[0][1]["Properties"]["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}] and
          re.match(r"ELBSecurityPolicy-TLS13-1-2", https[0][1]["Properties"].get("SslPolicy", "")),
          "an HTTPS listener with the CertificateArn parameter and a TLS 1.2+ policy")
    plain = {l.get("Condition"): l["Properties"]["DefaultActions"][0]
             for l in listeners.values() if l["Properties"].get("Protocol") == "HTTP"}
    check(len(plain) == 2 and plain.get("HasCertificate", {}).get("Type") == "redirect" and
          plain["HasCertificate"].get("RedirectConfig", {}).get("Protocol") == "HTTPS" and
          plain.get("NoCertificate", {}).get("Type") == "forward",
          "port 80 redirects to HTTPS with a certificate, serves only without one")
    cond = t.get("Conditions", {})
    check(cond.get("HasCertificate") == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, "none"]}]} and
          cond.get("NoCertificate") == {"Fn::Equals": [{"Ref": "CertificateArn"}, "none"]} and
          "Default" not in params["CertificateArn"],
          "plain HTTP only when CertificateArn is set to none, explicitly")

    for name, sn in of_type(res, "AWS::EC2::Subnet").items():
        check(sn["Properties"].get("MapPublicIpOnLaunch", False) is False,
              "%s: no public addresses on launch" % name)

    # the bucket: private and encrypted
    for name, b in of_type(res, "AWS::S3::Bucket").items():
        p = b["Properties"]
        block = p.get("PublicAccessBlockConfiguration", {})
        check(all(block.get(k) is True for k in
                  ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")),
              "%s: public access blocked" % name)
        check(bool(p.get("BucketEncryption")), "%s: encrypted" % name)
        rules = p.get("LifecycleConfiguration", {}).get("Rules", [])
        check(any("AbortIncompleteMultipartUpload" in r for r in rules),
              "%s: incomplete multipart uploads expire" % name)

    # least privilege: roles name the bucket's prefixes, no wildcard actions
    for name, role in of_type(res, "AWS::IAM::Role").items():
        for pol in role["Properties"]["Policies"]:
            for st in pol["PolicyDocument"]["Statement"]:
                acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                check(all("*" not in a for a in acts), "%s/%s: no wildcard action" % (name, st["Sid"]))
                if st["Resource"] == "*":
                    check(acts == ["cloudwatch:PutMetricData"] and "Condition" in st,
                          "%s/%s: '*' only for PutMetricData, limited to a namespace" % (name, st["Sid"]))
    worker_role = yaml.dump(res["WorkerRole"])
    check("/originals/*" in worker_role and "/processed/*" in worker_role,
          "worker role is scoped to the originals/ and processed/ prefixes")

    # launch templates: IMDSv2 only, user data installs, migrates, starts
    for name in ("ApiLaunchTemplate", "WorkerLaunchTemplate"):
        data = res[name]["Properties"]["LaunchTemplateData"]
        check(data.get("MetadataOptions", {}).get("HttpTokens") == "required", "%s: IMDSv2 required" % name)
    script = t["Mappings"]["UserData"]["Script"]["Common"]
    for needle, what in (("apt-get install", "installs the Debian packages"),
                         ("tar -xzf", "installs the binaries"),
                         ("showcase-migrate.service", "runs the migrations"),
                         ("showcase-api.service", "starts the API unit"),
                         ("showcase-worker.service", "starts the worker unit"),
                         ("showcase-backlog.timer", "publishes the backlog metric"),
                         ("complete-lifecycle-action", "answers the termination hook")):
        check(needle in script, "user data " + what)

    # alarms on what matters
    alarms = {a["Properties"]["MetricName"] for a in of_type(res, "AWS::CloudWatch::Alarm").values()}
    for m in ("DeadJobs", "OldestJobAgeSeconds", "HTTPCode_Target_5XX_Count"):
        check(m in alarms, "an alarm on " + m)
    check(len(of_type(res, "AWS::Logs::LogGroup")) >= 2, "log groups for the API and the workers")

    # no static keys anywhere
    check(not of_type(res, "AWS::IAM::AccessKey"), "no IAM access key resource")
    check(not re.search(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", text), "no access key id in the template")
    check(not re.search(r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws_secret_access_key", text),
          "no key variables in the template or its user data")

    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
