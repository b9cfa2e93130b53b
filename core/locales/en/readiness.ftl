# The readiness self-assessment: domains, questions and next steps, as a program lead reads them.

readiness-answer-0 = Not in place
readiness-answer-1 = Partly
readiness-answer-2 = Fully

readiness-domain-leadership = Leadership commitment
readiness-q-leadership-sponsor = A senior leader sponsors the support program and speaks about it publicly.
readiness-q-leadership-budget = The program has a budget and protected time for its people.
readiness-next-leadership = Ask a senior leader to sponsor the program, and agree a budget and protected time for peer supporters.

readiness-domain-response-plan = Support written into the adverse-event response
readiness-q-response-plan-trigger = Reaching out to staff is a step of the adverse-event response, not an afterthought.
readiness-q-response-plan-everyone = Outreach goes to everyone involved, routinely, so no one is singled out.
readiness-next-response-plan = Add proactive outreach to everyone involved to the adverse-event policy, with a named owner.

readiness-domain-whole-workforce = Programs for every part of the workforce
readiness-q-whole-workforce-professions = Physicians, nurses, pharmacists, allied health and trainees can all reach a peer of similar training.
readiness-q-whole-workforce-support-staff = Support staff (housekeeping, transport, administration) are included.
readiness-next-whole-workforce = Recruit and train peers from the professions and teams that cannot yet find a similar peer, including support staff.

readiness-domain-publicity = People know how to reach help
readiness-q-publicity-awareness = Staff know the program exists and how to reach it at any hour.
readiness-q-publicity-orientation = New staff and trainees hear about it at orientation.
readiness-next-publicity = Publicise the program where staff look at 3 a.m.: intranet, badge cards, orientation, unit huddles.

readiness-domain-disclosure-support = Support during disclosure conversations
readiness-q-disclosure-support-coaching = Clinicians get coaching before a disclosure-and-apology conversation.
readiness-q-disclosure-support-after = Someone checks in with them afterwards.
readiness-next-disclosure-support = Offer disclosure coaching and an urgent check-in for everyone in a disclosure conversation.

readiness-domain-legal-guidance = Legal guidance on what can be discussed
readiness-q-legal-guidance-privilege = Counsel has said which conversations are privileged here, and it is written down for staff.
readiness-q-legal-guidance-litigation = Staff facing a claim or lawsuit can get litigation support.
readiness-next-legal-guidance = Ask counsel to document which settings are privileged in your jurisdiction, and add litigation support.

readiness-domain-trained-peers = Trained peer supporters
readiness-q-trained-peers-training = Peer supporters complete training and refresh it before it expires.
readiness-q-trained-peers-coverage = There are enough trained peers for every shift and site.
readiness-next-trained-peers = Schedule peer supporter training and refreshers; fill the gaps in shift and site coverage.

readiness-domain-professional-partnership = Partnership with EAP and mental-health services
readiness-q-professional-partnership-referral = Escalation to EAP, counseling or chaplaincy is one step and is tracked.
readiness-q-professional-partnership-crisis = A crisis path reaches an on-call professional at once.
readiness-next-professional-partnership = Agree a referral path and an on-call crisis contact with your EAP and mental-health services.

readiness-domain-follow-up = Follow-up
readiness-q-follow-up-schedule = Follow-ups are scheduled after first contact (for example a day, a week, a month).
readiness-q-follow-up-milestones = Later milestones (peer review, lawsuit, deposition) trigger renewed outreach.
readiness-next-follow-up = Set a follow-up schedule in the peer program, and reach out again at later milestones.

readiness-domain-measurement = Measurement
readiness-q-measurement-metrics = Use, time to first contact and referrals are measured without exposing anyone.
readiness-q-measurement-feedback = People supported can give anonymous feedback.
readiness-next-measurement = Review the program's figures and anonymous survey results every quarter with your sponsor.
