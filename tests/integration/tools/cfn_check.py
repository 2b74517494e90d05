"""Assertions on deploy/aws/showcase.yaml: the properties that matter.

usage: cfn_check.py TEMPLATE GRACE_S STOP_TIMEOUT_S [API_IDLE_S API_GRACE_S]
Prints one line per check, "ok ..." or "FAIL ...", and exits 1 if any
failed.  GRACE_S is WORKER_GRACE_S's default and STOP_TIMEOUT_S the
worker unit's TimeoutStopSec: the scale-in hook must outlast both.
API_IDLE_S and API_GRACE_S are API_IDLE_TIMEOUT_S's and API_GRACE_S's
defaults: with them the load balancer's timeouts are checked against the
API's (the user data may set either; its value counts then).
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


def enabled_units(script, role):
    """The units the user data script enables on an instance of role ("api"
    or "worker"): it follows `if [ "$ROLE" = api ]` ... else ... fi and
    skips here-documents."""
    units, branches, heredoc = [], [], None
    for line in script.splitlines():
        word = line.strip()
        if heredoc is not None:
            if word == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?'?([A-Z]+)'?", word)
        if m:
            heredoc = m.group(1)
        if word.startswith("if "):
            m = re.match(r'if \[ "\$ROLE" = (\w+) \]; then$', word)
            branches.append(role == m.group(1) if m else None)
        elif word == "else" and branches:
            branches[-1] = None if branches[-1] is None else not branches[-1]
        elif word == "fi" and branches:
            branches.pop()
        elif word.startswith("systemctl enable") and all(b is not False for b in branches):
            units += [w for w in word.split() if w.endswith((".service", ".timer"))]
    return units


def api_edges(res, script, api_idle, api_grace):
    """The load balancer and the API agree: the API outlasts the balancer's
    idle timeout (else it closes connections the balancer is about to
    reuse: 502s), the health check is liveness only, and scale-in waits
    for requests in flight as long as SIGTERM gives them."""
    m = re.search(r'echo "API_IDLE_TIMEOUT_S=(\d+)"', script)
    api_idle = int(m.group(1)) if m else api_idle
    m = re.search(r'echo "API_GRACE_S=(\d+)"', script)
    api_grace = int(m.group(1)) if m else api_grace
    lbs = of_type(res, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    for name, lb in lbs.items():
        attrs = {a["Key"]: a["Value"] for a in lb["Properties"].get("LoadBalancerAttributes", [])}
        idle = int(attrs.get("idle_timeout.timeout_seconds", 60))
        check(api_idle > idle,
              "%s: the API's idle timeout %d s outlasts the load balancer's %d s" % (name, api_idle, idle))
    tg = res["ApiTargets"]["Properties"]
    check(tg.get("HealthCheckPath") == "/health/live",
          "the API's health check is /health/live, which touches no dependency (it is %s)" %
          tg.get("HealthCheckPath"))
    attrs = {a["Key"]: a["Value"] for a in tg.get("TargetGroupAttributes", [])}
    delay = int(attrs.get("deregistration_delay.timeout_seconds", 300))
    check(delay >= api_grace,
          "deregistration delay %d s >= API_GRACE_S %d s: scale-in waits for uploads in flight" %
          (delay, api_grace))


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
    worker_policies = {n: p["Properties"] for n, p in of_type(res, "AWS::AutoScaling::ScalingPolicy").items()
                       if p["Properties"]["AutoScalingGroupName"] == {"Ref": "WorkerGroup"}}
    policies = [p for p in worker_policies.values() if p["PolicyType"] == "TargetTrackingScaling"]
    metric = policies[0]["TargetTrackingConfiguration"] if policies else {}
    spec = metric.get("CustomizedMetricSpecification", {})
    check(len(policies) == 1 and spec.get("Namespace") == "Showcase" and
          spec.get("MetricName") == "BacklogPerWorker" and
          metric.get("TargetValue") == {"Ref": "BacklogPerWorkerTarget"},
          "worker group tracks Showcase/BacklogPerWorker at BacklogPerWorkerTarget")
    target = params["BacklogPerWorkerTarget"]["Default"]
    check(0 < float(target) <= 10, "backlog target %s is sane" % target)

    # from zero instances target tracking has no capacity to scale from: a
    # step policy adds the first worker when jobs wait and none is live
    alarms = of_type(res, "AWS::CloudWatch::Alarm")
    steps = {n: p for n, p in worker_policies.items() if p["PolicyType"] == "StepScaling"}
    zero = [a["Properties"] for a in alarms.values()
            if a["Properties"].get("MetricName") == "BacklogWithNoWorker" and
            any({"Ref": n} in a["Properties"].get("AlarmActions", []) for n in steps)]
    step = next((steps[n] for n in steps if zero and {"Ref": n} in zero[0]["AlarmActions"]), {})
    check(len(zero) == 1 and zero[0].get("Namespace") == "Showcase" and
          zero[0].get("ComparisonOperator") == "GreaterThanThreshold" and zero[0].get("Threshold") == 0 and
          step.get("AdjustmentType") == "ChangeInCapacity" and
          all(a["ScalingAdjustment"] > 0 for a in step.get("StepAdjustments", [{"ScalingAdjustment": 0}])),
          "the worker group scales out from zero: Showcase/BacklogWithNoWorker > 0 adds a worker (step policy)")

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
        # the portal's hls.js reads segments cross-origin: from the portal's
        # origin only, reads only
        cors = p.get("CorsConfiguration", {}).get("CorsRules", [])
        check(len(cors) == 1 and cors[0].get("AllowedOrigins") == [{"Ref": "PortalOrigin"}] and
              sorted(cors[0].get("AllowedMethods", [])) == ["GET", "HEAD"] and
              cors[0].get("AllowedHeaders") == ["Range"],
              "%s: CORS for the portal's origin, GET and HEAD with Range only" % name)

    # least privilege: roles name the bucket's prefixes, no wildcard actions
    for name, role in of_type(res, "AWS::IAM::Role").items():
        for pol in role["Properties"]["Policies"]:
            for st in pol["PolicyDocument"]["Statement"]:
                acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                check(all("*" not in a for a in acts), "%s/%s: no wildcard action" % (name, st["Sid"]))
                if st["Resource"] == "*":
                    check(acts == ["cloudwatch:PutMetricData"] and "Condition" in st,
                          "%s/%s: '*' only for PutMetricData, limited to a namespace" % (name, st["Sid"]))
    # both groups publish the figures, each only in the Showcase namespace
    for name in ("ApiRole", "WorkerRole"):
        sts = [st for pol in res[name]["Properties"]["Policies"] for st in pol["PolicyDocument"]["Statement"]]
        check(any(st["Action"] == ["cloudwatch:PutMetricData"] and
                  st.get("Condition") == {"StringEquals": {"cloudwatch:namespace": "Showcase"}} for st in sts),
              "%s may PutMetricData, in the Showcase namespace only" % name)
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
                         ("complete-lifecycle-action", "answers the termination hook")):
        check(needle in script, "user data " + what)
    # what each group's instances start: the backlog timer on both, so the
    # figures exist while no worker does
    for name, role, units in (("ApiLaunchTemplate", "api",
                               ["showcase-migrate.service", "showcase-api.service", "showcase-backlog.timer"]),
                              ("WorkerLaunchTemplate", "worker",
                               ["showcase-worker.service", "showcase-backlog.timer"])):
        sub = res[name]["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"]["Fn::Sub"]
        started = enabled_units(script, role)
        check("\nROLE=%s\n" % role in sub[0] and sub[1].get("Common") ==
              {"Fn::FindInMap": ["UserData", "Script", "Common"]} and
              all(u in started for u in units),
              "%s: user data starts %s (it starts %s)" % (name, " ".join(units), " ".join(started)))
        check("\nTARGET=${BacklogPerWorkerTarget}\n" in sub[0] and
              'echo "BACKLOG_PER_WORKER_TARGET=$TARGET"' in script,
              "%s: BACKLOG_PER_WORKER_TARGET is the BacklogPerWorkerTarget parameter" % name)

    # players' sign-in (CognitoUserPool "yes"): the pool's issuer and the
    # portal's client are the API's API_OIDC_ISSUER and API_OIDC_AUDIENCE
    pool, client = res.get("UserPool", {}), res.get("UserPoolClient", {})
    api_sub = res["ApiLaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"]["Fn::Sub"]
    issuer = {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"}
    check(pool.get("Type") == "AWS::Cognito::UserPool" and pool.get("Condition") == "HasCognito" and
          client.get("Condition") == "HasCognito" and
          client.get("Properties", {}).get("UserPoolId") == {"Ref": "UserPool"} and
          client.get("Properties", {}).get("GenerateSecret") is False,
          "a Cognito user pool and a public app client of it, with CognitoUserPool")
    check(api_sub[1].get("OidcIssuer") == {"Fn::If": ["HasCognito", issuer, ""]} and
          api_sub[1].get("OidcAudience") == {"Fn::If": ["HasCognito", {"Ref": "UserPoolClient"}, ""]} and
          "\nOIDC_ISSUER=${OidcIssuer}\n" in api_sub[0] and "\nOIDC_AUDIENCE=${OidcAudience}\n" in api_sub[0] and
          'echo "API_OIDC_ISSUER=$OIDC_ISSUER"' in script and
          'echo "API_OIDC_AUDIENCE=$OIDC_AUDIENCE"' in script,
          "the API's API_OIDC_ISSUER and API_OIDC_AUDIENCE are the pool's issuer and its app client")
    check(api_sub[1].get("LocalAccountsFlag") ==
          {"Fn::If": ["HasCognito", {"Fn::If": ["LocalAccountsOff", "0", "1"]}, "1"]} and
          'echo "API_LOCAL_ACCOUNTS=$LOCAL_ACCOUNTS"' in script,
          "API_LOCAL_ACCOUNTS is 0 only with the pool and LocalAccounts no")

    # alarms on what matters
    paged = {a["Properties"]["MetricName"] for a in alarms.values()
             if a["Properties"].get("AlarmActions") == [{"Ref": "AlarmTopic"}]}
    for m in ("DeadJobs", "OldestJobAgeSeconds", "HTTPCode_Target_5XX_Count", "StuckVideos"):
        check(m in paged, "an alarm on %s, to the alarm topic" % m)
    stuck = [a["Properties"] for a in alarms.values() if a["Properties"]["MetricName"] == "StuckVideos"]
    check(len(stuck) == 1 and stuck[0].get("Namespace") == "Showcase" and stuck[0].get("Threshold") == 0 and
          stuck[0].get("ComparisonOperator") == "GreaterThanThreshold" and
          stuck[0].get("EvaluationPeriods", 0) * stuck[0].get("Period", 0) >= 900,
          "the stuck-videos alarm: Showcase/StuckVideos > 0 for 15 minutes or more")
    check(len(of_type(res, "AWS::Logs::LogGroup")) >= 2, "log groups for the API and the workers")

    # no static keys anywhere
    check(not of_type(res, "AWS::IAM::AccessKey"), "no IAM access key resource")
    check(not re.search(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", text), "no access key id in the template")
    check(not re.search(r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws_secret_access_key", text),
          "no key variables in the template or its user data")

    if len(sys.argv) > 5:
        api_edges(res, script, int(sys.argv[4]), int(sys.argv[5]))

    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
