/** One permission of an application credential: a service type, an HTTP method and a path pattern. */
export interface AccessRuleSpec {
  service: string;
  method: string;
  path: string;
}

/**
 * Does a request match a rule? Paths are relative to the service's endpoint (e.g. "/v2.1/servers/abc").
 * In a rule's path, `*` and `{name}` match exactly one segment, `**` matches any number (including none),
 * as keystonemiddleware matches them.
 */
export function ruleMatches(rule: AccessRuleSpec, serviceType: string, method: string, path: string): boolean {
  if (rule.service !== serviceType) return false;
  if (rule.method.toUpperCase() !== method.toUpperCase()) return false;
  const want = rule.path.split('/').filter(Boolean);
  const have = path.split('?')[0]!.split('/').filter(Boolean);
  const match = (i: number, j: number): boolean => {
    if (i === want.length) return j === have.length;
    const seg = want[i]!;
    if (seg === '**') {
      for (let k = j; k <= have.length; k++) if (match(i + 1, k)) return true;
      return false;
    }
    if (j === have.length) return false;
    if (seg === '*' || /^\{[^/{}]+\}$/.test(seg)) return match(i + 1, j + 1);
    return seg === decodeURIComponent(have[j]!) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

/** True when the token has no access rules (no restriction) or one of them allows the request. */
export function requestAllowed(
  rules: readonly AccessRuleSpec[] | undefined,
  serviceType: string,
  method: string,
  path: string,
): boolean {
  if (!rules || rules.length === 0) return true;
  // HEAD is a GET without a body: a rule for GET allows it.
  const m = method.toUpperCase() === 'HEAD' ? ['HEAD', 'GET'] : [method];
  return rules.some((r) => m.some((mm) => ruleMatches(r, serviceType, mm, path)));
}
