// The console's client of inferd's HTTP API: every call carries the bearer token the user
// entered (kept in this tab's sessionStorage only), and answers come back as
// {status, ok, data, error} — never a thrown HTTP error, so the page can say what was refused.

const TOKEN_KEY = "inferd.console.token";
const modelPath = (model) => `/v2/repository/models/${encodeURIComponent(model)}`;

export class Api {
  constructor() {
    this.token = sessionStorage.getItem(TOKEN_KEY) || "";
  }

  setToken(token) {
    this.token = token.trim();
    if (this.token) sessionStorage.setItem(TOKEN_KEY, this.token);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  // method, path (absolute, e.g. "/v2/models/stats"), optional JSON body.
  async call(method, path, body) {
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      return { status: 0, ok: false, data: null, error: `server unreachable (${e.message})` };
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    const error = response.ok ? "" : (data && data.error) || `HTTP ${response.status}`;
    return { status: response.status, ok: response.ok, data, error };
  }

  serverMetadata() { return this.call("GET", "/v2"); }
  repositoryIndex() { return this.call("POST", "/v2/repository/index", {}); }
  statistics() { return this.call("GET", "/v2/models/stats"); }
  // One page of the caller's jobs (oldest first); pageToken: the previous page's
  // next_page_token, "" for the first.
  jobs(limit, pageToken) {
    const token = pageToken ? `&page_token=${encodeURIComponent(pageToken)}` : "";
    return this.call("GET", `/v2/jobs?limit=${limit}${token}`);
  }
  load(model) { return this.call("POST", `${modelPath(model)}/load`, {}); }
  unload(model) { return this.call("POST", `${modelPath(model)}/unload`, {}); }
  rollback(model) { return this.call("POST", `${modelPath(model)}/rollback`); }
  setRouting(model, policy) { return this.call("POST", `${modelPath(model)}/routing`, { policy }); }
}

// "weighted:1=90,2=10" → [{version: "1", weight: 90}, ...]; "pinned:2" → [{version: "2",
// weight: 100}]; anything else (e.g. "latest") → [].
export function parseRouting(policy) {
  if (!policy) return [];
  if (policy.startsWith("pinned:")) return [{ version: policy.slice(7), weight: 100 }];
  if (!policy.startsWith("weighted:")) return [];
  return policy.slice(9).split(",").map((part) => {
    const [version, weight] = part.split("=");
    return { version, weight: Number(weight) || 0 };
  });
}
