## The node's pages. Plain words for someone who may be upset and reading on a phone.
## Vocabulary labels are "FAMILY-VALUE" with the stored value's underscores as hyphens.

skip-to-content = Skip to main content
crisis-heading = In crisis now?
crisis-fallback = If you are in crisis, call or text 988 (in the US) or your local emergency number.
brand-program = Support after difficult events
nav-label = Main menu
nav-home = Go to the start page
nav-talk = Talk to someone
nav-my-requests = My requests
nav-support = Peer supporter
nav-console = Coordination console
nav-figures = The program's figures
nav-sign-in = Sign in
nav-privacy = What we keep and what we don't
nav-sign-out = Sign out
nav-sign-out-everywhere = Sign out on every device

home-title = Support after a difficult event at work
home-lead = When something goes wrong with a patient, it affects everyone involved. You can talk to a trained colleague who understands. It is confidential.
home-talk = Talk to someone
home-feelings-not-facts = We ask how you are, never what happened.
home-what-we-keep = What we keep and what we don't.
home-sign-in = Sign in to see your requests
home-programs = Support you can use
home-no-programs = Your program has not listed its services yet. You can still ask to talk to someone.
program-hours = Hours:
program-contact = Contact:
program-privileged = Conversations here are legally privileged.
program-not-privileged = Conversations here are confidential but not legally privileged: talk about how you feel, not the details of the case.
program-kind-peer-support = Peer support
program-kind-eap = Employee assistance program
program-kind-counseling = Counseling
program-kind-chaplaincy = Chaplaincy
program-kind-group-debrief = Group debrief
program-kind-litigation-support = Support during a lawsuit
program-kind-other = Other support

privacy-title = What we keep and what we don't
privacy-lead = This program exists to support you. It is built so that nothing it keeps can be used against you.
privacy-never-heading = We never record
privacy-never-narrative = What happened. There is no box anywhere to describe the event or the case.
privacy-never-patient = Anything about the patient.
privacy-never-messages = What you say to your peer supporter.
privacy-keep-heading = We keep
privacy-keep-request = That you asked for support, how urgent it was, and what kind of peer you would like.
privacy-keep-encounters = That a conversation took place: the date, how long, and whether you were referred on. Never what was said.
privacy-keep-survey = Survey answers, with no link to you or your request.
privacy-who-heading = Who can see what
privacy-who-you = You see all of your own requests.
privacy-who-supporter = Your peer supporter sees the name you gave and how to reach you.
privacy-who-coordinator = The program coordinator sees only the status of your request, unless you choose to share more.
privacy-who-outside = If you ask for someone outside your hospital, your hospital's coordinators see only a count. Nothing about you leaves your hospital unless you agree to it, word for word.
privacy-deleted-heading = When it is deleted
privacy-deleted-body = { $days ->
    [one] Your request and everything that names you are deleted { $days } day after your support ends.
   *[other] Your request and everything that names you are deleted { $days } days after your support ends.
}
privacy-sessions-heading = Signing in on this site
privacy-sessions-body = We use one cookie, only to keep you signed in. It ends after { $hours } hours, or after { $minutes } minutes without use, or when you sign out. We use no tracking or advertising cookies.
privacy-privileged-heading = Where you can talk about the details
privacy-privileged-body = Details of the case belong in privileged settings, such as with your lawyer, in peer review, or with a licensed counselor or chaplain. At your institution these services are privileged:
privacy-privileged-none = Ask your program coordinator which services are privileged where you work.

error-forged-title = This form could not be sent
error-forged-body = The form was out of date or came from another site. Go back, reload the page and try again.
error-not-found-title = Page not found
error-not-found-body = The page may have moved, or the link may be wrong.
error-forbidden-title = You cannot see this page
error-forbidden-body = Your account does not allow this. If you think it should, ask your program coordinator.
error-conflict-title = This has already changed
error-conflict-body = Someone else may have acted on it first. Go back and reload the page to see where it stands now.
error-rate-limited-title = Too many tries
error-rate-limited-body = Wait a minute, then try again.
error-busy-title = Sorry, the service is busy
error-busy-body = Try again in a few seconds. Nothing you sent was lost.
error-bad-input-title = Something in the form needs changing
error-bad-input-body = Check your answer and try again.
error-internal-title = Sorry, something went wrong
error-internal-body = It is not your fault. Try again in a few minutes.

form-error-title = There is a problem
field-error-preferredName = Enter just the name you would like to be called, with no other details.

sign-in-title = Sign in
sign-in-expired = You were signed out because you had not used the site for a while. Sign in again to carry on.
sign-in-email = Email address
sign-in-password = Password
sign-in-submit = Sign in
sign-in-email-missing = Enter your email address
sign-in-password-missing = Enter your password
sign-in-wrong = The email address or password is not right. Check them, or ask for a sign-in link by email.
sign-in-locked = Too many wrong passwords. Wait a few minutes, or ask for a sign-in link by email.
sign-in-by-email-heading = No password? Get a link by email
sign-in-by-email-lead = We will email you a link that signs you in. It works once, for 15 minutes.
sign-in-by-email-submit = Email me a sign-in link
sign-in-link-sent-title = Check your email
sign-in-link-sent-body = If that address belongs to an account, a sign-in link is on its way. It works once, for 15 minutes.
sign-in-link-title = Continue signing in
sign-in-link-lead = You opened a sign-in link. Continue to sign in on this device.
sign-in-link-continue = Continue
sign-in-link-bad-title = This sign-in link does not work
sign-in-link-bad-body = It may have been used already, or it is more than 15 minutes old. Ask for a new one on the sign-in page.

talk-title = Talk to someone
talk-lead = A trained peer supporter will get in touch. You do not need to explain what happened.
talk-urgency = How soon do you need to talk?
talk-urgency-missing = Choose how soon you need to talk
urgency-routine = In the next few days
urgency-urgent = Today
urgency-crisis = I need help now
urgency-hint-routine = A peer supporter will contact you within a day or two.
urgency-hint-urgent = We will find someone as soon as we can.
urgency-hint-crisis = Do not wait for us:
talk-who = Who would you like to talk to?
peer-origin-any-department = Anyone trained at my hospital
peer-origin-not-my-department = Someone outside my department
peer-origin-outside-institution-only = Someone at another hospital
talk-profession = Would you prefer a peer from a particular profession?
talk-profession-any = No preference
profession-physician = Physician
profession-nurse = Nurse
profession-pharmacist = Pharmacist
profession-allied-health = Allied health professional
profession-trainee = Trainee or student
profession-administrator = Administrator
profession-support-staff = Support staff (for example housekeeping or transport)
profession-other = Other
talk-how = How would you like to talk?
modality-phone = By phone
modality-video = By video call
modality-in-person = In person
modality-text = By text message
talk-name = What should your peer supporter call you? (optional)
talk-name-hint = Just a first name or a nickname.
talk-share = Let the program coordinator see who asked and what you prefer
talk-share-hint = If you leave this unticked, the coordinator sees only that a request exists and how it is going.
talk-no-details = Please do not write details of the event anywhere: we do not need them to help you.
talk-submit = Ask for support

requests-title = My requests
requests-mine = Requests for support
requests-none = You have not asked for support yet.
requests-asked-on = Asked on { $when }
request-title = Your request for support
request-created = Your request has been sent.
request-state = Status:
request-urgency = How soon:
request-asked = Asked:
request-how = How you will talk:
request-supporter = { $name } will get in touch with you.
request-withdraw = I no longer need this
crisis-now-title = Get help now
crisis-now-body = Your request has been sent and the person on call has been alerted. Do not wait for us to contact you.
state-open = Looking for a peer supporter
state-awaiting-federation = Looking at other hospitals
state-offered = Asking a peer supporter
state-accepted = A peer supporter has accepted
state-in-contact = In touch
state-follow-up = Follow-up
state-closed = Closed
state-declined-by-requester = You declined
state-withdrawn = Withdrawn
state-escalated = Passed to professional support
state-supported-outside = Supported by a peer at another hospital
state-explain-open = We are finding a trained peer who is free now.
state-explain-awaiting-federation = Choose a peer at another hospital when the program shows you some.
state-explain-offered = A peer supporter has been asked and has a short time to answer. If they cannot, we ask the next one.
state-explain-accepted = A peer supporter has accepted your request and will contact you the way you asked.
state-explain-in-contact = You and your peer supporter are in touch.
state-explain-follow-up = Your peer supporter will check in with you from time to time.
state-explain-closed = This request is closed. You can ask again at any time.
state-explain-declined-by-requester = You said no, thank you. You can ask again at any time.
state-explain-withdrawn = You withdrew this request. You can ask again at any time.
state-explain-escalated = Your request has been passed to professional support, who will contact you.
outreach-heading = Your program reached out to you
outreach-body = After a recent event at work, your program is reaching out to everyone who was involved. Would you like to talk to a trained peer?
outreach-accept = Yes, I would like to talk
outreach-not-now = Not now
outreach-decline = No, thank you
outreach-stop = Don't contact me again about this
outreach-stop-hint = Your program will not write to you about this again, even if there is news about it later.
requests-stopped = Done: your program will not contact you again about that.

support-title = Peer supporter
support-offers = Asked to support someone
support-no-offers = No one is waiting for you right now.
support-accept = Accept
support-decline = I can't now
support-accepted = Thank you. The person now sees your first name. Contact them soon, the way they asked.
support-declined = Thank you. The request goes to the next supporter.
support-people = People you support
support-no-people = You are not supporting anyone right now.
support-contact = Reach them at:
support-no-name = no name given
urgency-level-routine = Routine
urgency-level-urgent = Urgent, today
urgency-level-crisis = Crisis: needs help now
offer-time-left = { $minutes ->
    [one] { $minutes } minute left to answer
   *[other] { $minutes } minutes left to answer
}
event-category-harm-event = Harm to a patient
event-category-near-miss = Near miss
event-category-unexpected-death-or-decline = Unexpected death or decline
event-category-ambiguous-outcome = Unclear outcome
event-category-malpractice-claim = Lawsuit
event-category-regulatory-inquiry = Regulatory inquiry
event-category-media-exposure = Media attention
event-category-workplace-violence = Workplace violence
event-category-other = Other event
event-category-colleague-concern = A colleague's concern

survey-title = How was your support?
survey-lead = This survey is anonymous: your answers cannot be linked to you. It takes about 2 minutes. Answer as many questions as you like.
survey-submit = Send my answers
survey-answer-one = Answer at least one question
survey-answer-choose = Choose one of the answers
survey-thanks-title = Thank you
survey-thanks-body = Your answers help the program support people better.
survey-answered-title = This survey has already been answered
survey-answered-body = Each survey link works once. Thank you for your answers.
survey-expired-title = This survey link has expired
survey-expired-body = Survey links work for 30 days. If you would still like to share how it went, tell your program coordinator.
survey-q-satisfied = Overall, I am satisfied with the support I received.
survey-q-heard = I felt heard.
survey-q-recommend = I would recommend peer support to a colleague.
survey-q-stress = Since the support, my stress about the event is…
survey-likert-1 = Strongly disagree
survey-likert-2 = Disagree
survey-likert-3 = Neither agree nor disagree
survey-likert-4 = Agree
survey-likert-5 = Strongly agree
survey-yes = Yes
survey-no = No
survey-choice-lower = Lower
survey-choice-about-the-same = About the same
survey-choice-higher = Higher

demo-refused-title = Persona sign-in is for the demo only
demo-refused-body = These links work only on nodes started by alongside demo, and only for the demo's own run. Sign in with your own account instead.

## A supporter's page for one person, and their own availability.
support-about = About:
support-back = Back to peer supporter
support-availability-link = When you can be asked, and pausing
encounter-heading = Record a conversation
encounter-no-notes = Only these facts are kept: never what was said.
encounter-date = Date of the conversation
encounter-date-missing = Enter the date of the conversation
encounter-duration = How long was it?
encounter-duration-missing = Choose how long the conversation was
duration-under-15-minutes = Under 15 minutes
duration-15-to-30-minutes = 15 to 30 minutes
duration-30-to-60-minutes = 30 to 60 minutes
duration-over-60-minutes = Over an hour
encounter-mode = How did you talk?
encounter-tier = What kind of support was it?
tier-1 = Self-care and colleagues
tier-2 = Peer support
tier-3 = Professional help
encounter-referral = Did you refer them to a program?
encounter-referral-none = No referral
encounter-next = What happens next?
next-step-in-contact = We stay in touch
next-step-follow-up = Check in from time to time (follow-up)
next-step-closed = Close: support is complete
encounter-submit = Save the conversation
encounter-recorded = The conversation is recorded.
escalate-heading = Pass to professional help
escalate-lead = If they need more than peer support, pass them to a professional program. The program will contact them.
escalate-program = Program
escalate-submit = Pass to this program
escalate-done = Passed to professional help.
field-error-occurredOn = The date cannot be in the future
follow-ups-heading = Check-ins due
follow-ups-none = No check-ins are due.
follow-up-due = Due { $when }
follow-up-outcome = How did it go?
follow-up-done = Mark as done
follow-up-recorded = The check-in is recorded.
outcome-doing-well = They are doing well
outcome-wants-more-support = They would like more support
outcome-referred = I referred them on
outcome-no-answer = No answer
outcome-declined = They did not want a check-in
availability-title = When you can be asked
availability-saved = Saved.
availability-pause-heading = Pause
availability-active = You can be asked to support people.
availability-paused = You are paused: no one will be offered to you until you resume.
availability-pause = Pause: don't ask me for now
availability-resume = Resume: I can be asked again
availability-when-heading = Days and times
availability-days = Which days and times can you be asked?
availability-days-hint = Tick a day and give the hours, in your time zone. A time that ends before it starts runs past midnight.
availability-from = From
availability-to = to
availability-time-missing = Give the hours for { $day }
availability-time-zone = Your time zone
availability-time-zone-hint = For example America/Chicago.
field-error-timeZone = Enter a time zone such as America/Chicago
availability-cap = How many people can you support at once?
availability-cap-hint = Between 1 and 50.
field-error-caseloadCap = Enter a number between 1 and 50
availability-hours = Hours of support a month, at most
field-error-monthlyHoursCap = Enter a number of hours between 1 and 80
field-error-availability = Check the days and times: each needs a start and an end that differ
availability-number = Enter a whole number
availability-outside = People at other hospitals in our network may be matched with me
availability-outside-hint = They see only your profession, specialty, experience and languages until you accept an introduction.
availability-save = Save
weekday-mon = Monday
weekday-tue = Tuesday
weekday-wed = Wednesday
weekday-thu = Thursday
weekday-fri = Friday
weekday-sat = Saturday
weekday-sun = Sunday

## Single sign-on through the institution's identity provider.
sign-in-sso = Sign in with your hospital account
sign-in-password-heading = Or sign in with a password
sso-off-title = Hospital sign-in is not set up here
sso-off-body = Sign in with your email address and password, or ask for a sign-in link by email.
sso-unavailable-title = Your hospital's sign-in service did not answer
sso-unavailable-body = Try again in a few minutes, or sign in with a password or an emailed link.
sso-refused-title = You could not be signed in
sso-refused-body = Your hospital's sign-in service did not confirm who you are. Try again from the sign-in page.
sso-expired-title = That sign-in took too long
sso-expired-body = For your safety a sign-in must be finished within 10 minutes. Start again from the sign-in page.

## Choosing a language (each language's own name is in the code: `Locale::own_name`).
language-choose = Language:

## The shipped crisis resources (US), shown while the institution keeps them. An institution's
## own, per language, go in its wording as "institution-crisis-resources".
crisis-resources-default = If you are in crisis or thinking about harming yourself, call or text 988 (Suicide & Crisis Lifeline, US) now, or call 911 in an emergency.

## Someone at another hospital
outside-title = Someone at another hospital
outside-lead = These peer supporters work at other hospitals in our network. You see what they chose to share about themselves. They see nothing about you until you choose one of them and agree to what is sent.
outside-members = { $answered } of { $asked } { $asked ->
    [one] hospital
   *[other] hospitals
} answered in time.
outside-none = No peer supporter at another hospital can be matched right now. Your request stays open here, and our own peer supporters can still be asked.
outside-candidate-title = { $profession } at { $institution }
outside-experience = Experience
outside-languages = Languages
outside-reasons = Why we suggest them
outside-reason-same-profession = Same profession as you
outside-reason-requested-profession = The profession you asked for
outside-reason-same-specialty = Same specialty as you
outside-reason-different-specialty = A different specialty, as you asked
outside-reason-more-experience = More experience than you
outside-reason-similar-experience = Similar experience to yours
outside-reason-lower-caseload = Has time for you now
outside-reason-lived-experience = Has been through something similar
outside-reason-similar-time-zone = Awake at the same hours as you
outside-choose = Choose this peer
outside-back = Back to my request
outside-find = Look for someone at another hospital
outside-find-hint = Only your profession, your experience and what you asked for are sent to other hospitals: never your name or what happened.
outside-share-title = How they can reach you
outside-share-lead = Tell us how the peer supporter at { $institution } can reach you. Only what you type here is sent, and only to this one person.
outside-first-name = First name (optional)
outside-first-name-hint = Or any name you would like to be called.
outside-contact = How they can reach you
outside-contact-hint = A phone number or email address you are happy for them to use.
outside-check = Check what will be sent
outside-consent-title = Check what will be sent
outside-consent-lead = This is exactly what will be sent to one peer supporter at { $institution }. Nothing else about you or your request leaves { $home }.
outside-consent-name = Name
outside-consent-no-name = (no name)
outside-consent-contact = How to reach you
outside-send = Send the introduction
outside-change = Change what I share
outside-introduced = Your introduction was sent. We will email you when the peer supporter answers.
outside-introductions = Peers at other hospitals
outside-intro-line = A peer supporter at { $institution }: { $state }
introduction-state-sending = being sent
introduction-state-pending = waiting for their answer
introduction-state-accepted = accepted: they will contact you
introduction-state-declined = not able to help this time
introduction-state-failed = could not be delivered
experience-trainee = In training
experience-under-5-years = Under 5 years
experience-5-to-15-years = 5 to 15 years
experience-over-15-years = Over 15 years
experience-unknown = Not given
field-error-contact = Enter a phone number or email address where the peer supporter can reach you
field-error-firstName = Enter just a first name, up to 60 characters
support-introductions = Introductions from other hospitals
support-no-introductions = No introductions from other hospitals.
support-introduction-title = Someone at { $institution } asks to talk
support-introduction-name = Name:
support-introduction-accepted = You accepted. Please contact them soon, the way they asked.
introduction-conversations = { $count ->
    [0] No conversation recorded yet.
    [one] { $count } conversation recorded.
   *[other] { $count } conversations recorded.
}
introduction-what-is-shared = Their hospital learns only that you have made first contact and, later, that the support has ended. Nothing about your conversations leaves this hospital.
introduction-close-heading = When the support has ended
introduction-close-lead = Say so here when you and they agree you have finished. Their name and contact are then deleted, and their hospital closes their request.
introduction-close = The support has ended
introduction-closed = Thank you. The support is recorded as ended and their details are deleted.
support-introduction-open = Record a conversation or end the support

## Text messages
texts-heading = Text messages
texts-phone = Mobile number
texts-phone-hint = With its country code, for example +1 555 010 0123. Only this program uses it, to reach you quickly.
texts-opt-in = Send me offers by text message as well as by email
texts-opt-in-hint = A text says only that someone is waiting, with a link. Never a name or anything about what happened.
texts-save = Save text message settings
field-error-phone = Enter your mobile number with its country code, for example +1 555 010 0123

## Acknowledging an alert
ack-title = Acknowledge this alert
ack-lead = Tap the button to say you are dealing with it. No one else will be paged for this alert.
ack-button = I'm on it
ack-done-title = Thank you: you have it
ack-done-body = No one else will be paged for this alert. Sign in to see the request and act on it.
ack-already-title = Someone already has it
ack-already-body = This alert was already acknowledged. Sign in if you want to see the request.
state-explain-supported-outside = A peer supporter at another hospital accepted and will contact you the way you shared. When you no longer need support, close the request here.
request-close = I no longer need support: close this request
introduction-state-lapsed = no answer in a day: you can choose another peer
introduction-state-closed = support has ended

## Dates: day, month name, year and time (24-hour, UTC)
date-time = { $month } { $day }, { $year }, { $time } UTC
month-1 = Jan
month-2 = Feb
month-3 = Mar
month-4 = Apr
month-5 = May
month-6 = Jun
month-7 = Jul
month-8 = Aug
month-9 = Sep
month-10 = Oct
month-11 = Nov
month-12 = Dec

## I'm worried about a colleague.
colleague-title = Worried about a colleague?
colleague-lead = If someone you work with seems to be struggling after something at work, you can ask the support program to reach out to them, as it does after an event. It is their choice whether to talk.
colleague-crisis = If you think they are in danger now, stay with them and call the crisis line shown at the top of this page.
colleague-who = Their staff id or work email
colleague-who-hint = As on their badge or in the staff directory.
colleague-share = Tell them it was me
colleague-share-hint = If you leave this unticked, they are told only that a colleague was thinking of them.
colleague-send = Ask the program to reach out
colleague-sent = Thank you. The program will reach out to your colleague. They are told who asked only if you chose it.
colleague-limit = You have asked about several colleagues today. If you are worried about more people, please talk to your support program's coordinator.
field-error-colleague = Enter the staff id or work email of a colleague on the staff roster (not your own).
home-colleague = Worried about a colleague?
outreach-from-colleague = A colleague was thinking of you and asked your program to reach out. Would you like to talk to a trained peer?
outreach-from-named-colleague = { $name } was thinking of you and asked your program to reach out. Would you like to talk to a trained peer?

## A hand-off to a tier-3 program, as its intake sees it.
handoff-title = A referral to your program
handoff-lead = The peer support program has referred a member of staff to { $program }.
handoff-sent = Referred
handoff-name = First name
handoff-contact = How to reach them
handoff-nothing-shared = They did not choose to share their name or contact with your program: they have your program's details and will contact you.
handoff-erased = When you acknowledge, what they shared is removed from this system: keep it in your own records.
handoff-button = Acknowledge the referral
handoff-acknowledged-on = Acknowledged on { $when }.
handoff-done-title = Referral acknowledged
handoff-done-body = Thank you. The peer support program can see that you received it.
handoff-already-title = Already acknowledged
handoff-already-body = Someone at your program acknowledged this referral already.
