// The main flow written against the types openapi-typescript generates from
// docs/openapi.yaml (generated/api.d.ts). tests/test_generated_clients.py runs
// `tsc --noEmit` on it: a change of the document that breaks a frontend breaks this.
import type { components, paths } from "./generated/api";

type Schemas = components["schemas"];
type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;
type Ok<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: { [K in S]: { content: { "application/json": infer R } } };
}
  ? R
  : never;

/** Offsets are Unicode code points unless offset_unit=utf16 is sent. */
export class LabelingApi {
  constructor(
    private readonly base: string,
    private token = "",
  ) {}

  private async call<T>(method: string, path: string, body?: unknown, type = "application/json"): Promise<T> {
    const headers: Record<string, string> = this.token ? { Authorization: `Bearer ${this.token}` } : {};
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (typeof body === "string") {
      payload = body;
      headers["Content-Type"] = type;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = type;
    }
    const response = await fetch(this.base + path, { method, headers, body: payload });
    if (!response.ok) {
      const error = (await response.json()) as Schemas["Error"];
      throw new Error(`${response.status} ${error.code}: ${error.detail}`);
    }
    return (response.status === 204 ? null : await response.json()) as T;
  }

  async logIn(body: Json<"/api/auth/token/", "post">): Promise<void> {
    const answer = await this.call<Ok<"/api/auth/token/", "post", 200>>("POST", "/api/auth/token/", body);
    this.token = answer.token;
  }

  createProject(body: Json<"/api/projects/", "post">) {
    return this.call<Ok<"/api/projects/", "post", 201>>("POST", "/api/projects/", body);
  }

  addMember(project: number, body: Json<"/api/projects/{project_id}/members/", "post">) {
    return this.call<Schemas["Membership"]>("POST", `/api/projects/${project}/members/`, body);
  }

  importDocument(project: number, body: Json<"/api/projects/{project_id}/documents/", "post">) {
    return this.call<Schemas["ImportResult"] | Schemas["ImportJob"]>("POST", `/api/projects/${project}/documents/`, body);
  }

  importJsonLines(project: number, lines: Schemas["DocumentInRequest"][]) {
    const body = lines.map((line) => JSON.stringify(line)).join("\n");
    return this.call<Schemas["ImportResult"] | Schemas["ImportJob"]>(
      "POST",
      `/api/projects/${project}/documents/`,
      body,
      "application/x-ndjson",
    );
  }

  importFile(project: number, file: Blob, name: string) {
    const form = new FormData();
    const field: keyof Schemas["DocumentUploadRequest"] = "file";
    form.append(field, file, name);
    return this.call<Schemas["ImportResult"] | Schemas["ImportJob"]>("POST", `/api/projects/${project}/documents/`, form);
  }

  nextTask(project: number, kind: string) {
    return this.call<Schemas["TaskPayload"] | null>("GET", `/api/projects/${project}/next-task/?kind=${encodeURIComponent(kind)}`);
  }

  annotate(task: number, body: Json<"/api/tasks/{task_id}/annotation/", "put">) {
    return this.call<Schemas["Annotation"]>("PUT", `/api/tasks/${task}/annotation/`, body);
  }

  startAgreementRun(project: number, body: Json<"/api/projects/{project_id}/agreement-runs/", "post">) {
    return this.call<Schemas["AgreementRun"]>("POST", `/api/projects/${project}/agreement-runs/`, body);
  }

  agreementRun(id: number) {
    return this.call<Schemas["AgreementRun"]>("GET", `/api/agreement-runs/${id}/`);
  }
}

/** A whole session: a lead sets up, an annotator labels, the lead reads alpha. */
export async function mainFlow(base: string): Promise<number | null> {
  const lead = new LabelingApi(base);
  await lead.logIn({ username: "lead", password: "secret" });
  const project = await lead.createProject({
    name: "News claims",
    annotators_per_item: 2,
    schemas: [
      { kind: "verifiability", labels: ["verifiable", "unverifiable", "not_a_claim"] },
      { kind: "attribution" },
    ],
  });
  await lead.addMember(project.id, { username: "ann", role: "annotator" });
  await lead.importDocument(project.id, { title: "One", text: "The mayor said it rained 🌧️." });
  await lead.importJsonLines(project.id, [{ text: "Kyiv said the talks were productive 🇺🇦." }]);
  await lead.importFile(project.id, new Blob(["text\nA file.\n"]), "docs.csv");

  const annotator = new LabelingApi(base);
  await annotator.logIn({ username: "ann", password: "secret" });
  for (let task = await annotator.nextTask(project.id, "verifiability"); task; task = await annotator.nextTask(project.id, "verifiability")) {
    const label = task.schema.labels[0] ?? "verifiable";
    const value: Schemas["VerifiabilityValue"] = { label };
    await annotator.annotate(task.id, { value, lead_time_ms: 900 });
  }
  const attribution = await annotator.nextTask(project.id, "attribution");
  if (attribution) {
    const { start, end } = attribution.sentence;
    const value: Schemas["AttributionValue"] = {
      attributions: [{ source: { start, end: start + 1 }, cue: { start: start + 1, end: start + 2 }, content: { start: start + 2, end } }],
    };
    await annotator.annotate(attribution.id, { value });
  }

  const run = await lead.startAgreementRun(project.id, { kind: "verifiability" });
  const done = await lead.agreementRun(run.id);
  return done.status === "done" && done.result ? done.result.alpha : null;
}
