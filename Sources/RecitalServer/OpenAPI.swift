/// The API described in OpenAPI 3.1, served at `/openapi.yaml`; a test sends a request to every
/// operation it names and checks the server routes it.
enum OpenAPI {
    static let yaml = """
        openapi: 3.1.0
        info:
          title: Recital
          version: 0.1.0
          description: >-
            Jobs turn uploaded EPUB and PDF books into audiobooks. States, priorities (1 runs first,
            to 4) and ids are the job table's, as `recital status --json` shows them. Errors are
            application/problem+json with a detail that says what to do. Off loopback every request
            but /healthz and /readyz needs `Authorization: Bearer <token>`.
        servers:
          - url: /
        components:
          securitySchemes:
            token:
              type: http
              scheme: bearer
          parameters:
            id:
              name: id
              in: path
              required: true
              schema: { type: integer }
            format:
              name: format
              in: path
              required: true
              schema: { type: string, enum: [m4b, mp3, flac] }
          schemas:
            Problem:
              type: object
              required: [type, title, status, detail]
              properties:
                type: { type: string }
                title: { type: string }
                status: { type: integer }
                detail: { type: string }
                instance: { type: string }
            Job:
              type: object
              required: [id, state, priority, progress, links]
              properties:
                id: { type: integer }
                title: { type: [string, "null"] }
                authors: { type: array, items: { type: string } }
                source: { type: string }
                state: { type: string, enum: [queued, running, paused, completed, failed, cancelled] }
                priority: { type: integer, minimum: 1, maximum: 4 }
                progress: { type: number }
                chaptersDone: { type: integer }
                chaptersTotal: { type: integer }
                chaptersEncoded: { type: integer, description: chapters already in every requested format's files }
                segmentsDone: { type: integer }
                segmentsTotal: { type: integer }
                etaSeconds: { type: [number, "null"] }
                queuePosition: { type: [integer, "null"] }
                attempts: { type: [integer, "null"], description: attempts its chapters used (one job only) }
                createdAt: { type: string, format: date-time }
                error: { type: [string, "null"] }
                warnings: { type: array, items: { type: string } }
                links:
                  type: object
                  properties:
                    self: { type: string }
                    chapters: { type: string }
                    log: { type: string }
                    results: { type: object, additionalProperties: { type: string } }
          responses:
            Problem:
              description: What went wrong and what to do.
              content:
                application/problem+json:
                  schema: { $ref: '#/components/schemas/Problem' }
            Job:
              description: The job.
              content:
                application/json:
                  schema: { $ref: '#/components/schemas/Job' }
        security:
          - token: []
          - {}
        paths:
          /api/v1/jobs:
            get:
              summary: Jobs, newest first, a page at a time
              parameters:
                - { name: state, in: query, schema: { type: string }, description: repeatable }
                - { name: q, in: query, schema: { type: string }, description: title or author }
                - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100, default: 25 } }
                - { name: cursor, in: query, schema: { type: string } }
              responses:
                '200': { description: "{items, nextCursor}; Link rel=next" }
                '304': { description: Not modified (If-None-Match) }
                '400': { $ref: '#/components/responses/Problem' }
            post:
              summary: Upload a book (raw body with ?filename=&voice=&format=&priority=, or multipart/form-data)
              parameters:
                - { name: Idempotency-Key, in: header, schema: { type: string } }
              requestBody:
                content:
                  application/epub+zip: {}
                  application/pdf: {}
                  multipart/form-data: {}
              responses:
                '202': { $ref: '#/components/responses/Job' }
                '200': { $ref: '#/components/responses/Job' }
                '400': { $ref: '#/components/responses/Problem' }
                '413': { $ref: '#/components/responses/Problem' }
                '415': { $ref: '#/components/responses/Problem' }
                '422': { $ref: '#/components/responses/Problem' }
                '507': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/bulk:
            post:
              summary: One action on up to 1000 jobs, answered per job
              responses:
                '200': { description: "{results: [{id, status, problem}]}" }
                '400': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/{id}:
            parameters: [{ $ref: '#/components/parameters/id' }]
            get:
              responses:
                '200': { $ref: '#/components/responses/Job' }
                '304': { description: Not modified }
                '404': { $ref: '#/components/responses/Problem' }
            patch:
              summary: "Set the priority: {priority: 1-4}"
              responses:
                '200': { $ref: '#/components/responses/Job' }
                '409': { $ref: '#/components/responses/Problem' }
                '422': { $ref: '#/components/responses/Problem' }
            delete:
              responses:
                '204': { description: Deleted (finished files stay) }
                '409': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/{id}/pause:
            parameters: [{ $ref: '#/components/parameters/id' }]
            post:
              responses:
                '200': { $ref: '#/components/responses/Job' }
                '409': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/{id}/unpause:
            parameters: [{ $ref: '#/components/parameters/id' }]
            post:
              responses:
                '200': { $ref: '#/components/responses/Job' }
                '409': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/{id}/cancel:
            parameters: [{ $ref: '#/components/parameters/id' }]
            post:
              responses:
                '200': { $ref: '#/components/responses/Job' }
                '409': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/{id}/retry:
            parameters: [{ $ref: '#/components/parameters/id' }]
            post:
              responses:
                '200': { $ref: '#/components/responses/Job' }
                '409': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/{id}/chapters:
            parameters: [{ $ref: '#/components/parameters/id' }]
            get:
              responses:
                '200': { description: "[{index, title, state, segmentsDone, segmentsTotal, attempt, maxAttempts, lastError}]" }
                '404': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/{id}/chapters/{index}/audio:
            parameters:
              - { $ref: '#/components/parameters/id' }
              - { name: index, in: path, required: true, schema: { type: integer }, description: the chapter's index }
            get:
              summary: A synthesized chapter as WAV, before the book is done (byte ranges)
              responses:
                '200': { description: audio/wav }
                '206': { description: A range of it }
                '404': { $ref: '#/components/responses/Problem' }
                '425': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/{id}/log:
            parameters: [{ $ref: '#/components/parameters/id' }]
            get:
              responses:
                '200': { description: "[{task, at, kind, message}], oldest first" }
                '404': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/{id}/events:
            parameters: [{ $ref: '#/components/parameters/id' }]
            get:
              summary: Server-Sent Events of one job; ends with its final state
              responses:
                '200': { description: text/event-stream }
                '404': { $ref: '#/components/responses/Problem' }
          /api/v1/jobs/{id}/result.{format}:
            parameters: [{ $ref: '#/components/parameters/id' }, { $ref: '#/components/parameters/format' }]
            get:
              summary: The finished file, with byte ranges (?part=N, ?download=1)
              responses:
                '200': { description: The file }
                '206': { description: A range of it }
                '404': { $ref: '#/components/responses/Problem' }
                '409': { $ref: '#/components/responses/Problem' }
                '410': { $ref: '#/components/responses/Problem' }
                '416': { $ref: '#/components/responses/Problem' }
                '425': { $ref: '#/components/responses/Problem' }
            head:
              responses:
                '200': { description: The file's headers }
          /api/v1/events:
            get:
              summary: Server-Sent Events of every job (Last-Event-ID or ?since= resumes)
              responses:
                '200': { description: text/event-stream }
                '400': { $ref: '#/components/responses/Problem' }
          /api/v1/stats:
            get:
              responses:
                '200': { description: "{byState, oldestQueuedAgeSeconds, charactersPerSecond, workers: [{id, host, pid, heartbeatAgeSeconds, holding}], backends: [{url, ok, message, at}]}" }
          /healthz:
            get:
              security: [{}]
              responses:
                '200': { description: The process answers }
          /readyz:
            get:
              security: [{}]
              responses:
                '200': { description: The job table answers }
                '503': { $ref: '#/components/responses/Problem' }
          /openapi.yaml:
            get:
              responses:
                '200': { description: This document }
        """
}
