-- Surveys and quizzes (content::survey): a content row of kind 'survey'
-- and what it adds. A quiz is a survey whose questions have correct
-- answers; it scores each response. respondents counts the responses.
CREATE TABLE surveys (
    content_id BIGINT PRIMARY KEY NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    quiz BOOLEAN NOT NULL DEFAULT FALSE,
    -- Whether a quiz shows its best scores to those who answered it.
    leaderboard BOOLEAN NOT NULL DEFAULT FALSE,
    -- Whether the author's results leave out who answered what.
    anonymous BOOLEAN NOT NULL DEFAULT FALSE,
    closes_at TIMESTAMP,
    closed_at TIMESTAMP,
    respondents BIGINT NOT NULL DEFAULT 0
);
-- Its questions, in order: kind 'one', 'several' (choices), 'scale'
-- (1 to 5) or 'text'; explanation: shown once a quiz is answered.
CREATE TABLE survey_questions (
    id BIGSERIAL PRIMARY KEY,
    content_id BIGINT NOT NULL REFERENCES surveys (content_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    prompt TEXT NOT NULL,
    optional BOOLEAN NOT NULL DEFAULT FALSE,
    explanation TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX survey_questions_order ON survey_questions (content_id, position);
-- The choices of a question of choices; correct: a quiz's right answers.
CREATE TABLE survey_choices (
    id BIGSERIAL PRIMARY KEY,
    question_id BIGINT NOT NULL REFERENCES survey_questions (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    correct BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX survey_choices_order ON survey_choices (question_id, position);
-- One response per person and survey. score: the right answers of a quiz.
-- ap_id: the activity it came as from another instance, or was sent as.
CREATE TABLE survey_responses (
    id BIGSERIAL PRIMARY KEY,
    content_id BIGINT NOT NULL REFERENCES surveys (content_id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    score INTEGER,
    ap_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX survey_responses_person ON survey_responses (content_id, user_id);
CREATE INDEX survey_responses_user ON survey_responses (user_id);
-- The answers of a response: one row per choice chosen, or the scale's
-- value, or the text.
CREATE TABLE survey_answers (
    id BIGSERIAL PRIMARY KEY,
    response_id BIGINT NOT NULL REFERENCES survey_responses (id) ON DELETE CASCADE,
    question_id BIGINT NOT NULL REFERENCES survey_questions (id) ON DELETE CASCADE,
    choice_id BIGINT REFERENCES survey_choices (id) ON DELETE CASCADE,
    scale INTEGER,
    text TEXT
);
CREATE INDEX survey_answers_response ON survey_answers (response_id);
CREATE INDEX survey_answers_question ON survey_answers (question_id);
