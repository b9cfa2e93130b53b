-- What the outbox erases of a message, declared by whoever queues it (a property of its topic):
-- 'never', 'delivered' (a sign-in link, a survey token, an alert's code, a hand-off) or
-- 'delivered_or_dead' (an introduction, with what the requester chose to share).
ALTER TABLE outbox ADD COLUMN erase TEXT NOT NULL DEFAULT 'never';
UPDATE outbox SET erase = 'delivered'
    WHERE topic IN ('sign_in_link', 'survey', 'crisis_alert', 'sla_breach', 'handoff', 'handoff.created');
UPDATE outbox SET erase = 'delivered_or_dead' WHERE topic = 'federation_introduction';
