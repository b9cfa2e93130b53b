## Emails. Never case details, another person's name or an event's category: only that
## something is waiting, and a link to the page where the person acts.

email-sign-in = Sign in
email-footer = — { $institution } clinician support program
email-outreach-subject = Support is available to you
email-outreach-1 = After a recent event at work, your support program is reaching out to everyone who was involved.
email-outreach-2 = Many people find it helps to talk with a trained peer. It is confidential and there is no pressure: you can ask for support now, later, or not at all.
email-recontact-subject = Still here if you want to talk
email-recontact-1 = A little while ago your support program reached out after an event at work. We are writing once more, gently, because feelings can come later.
email-recontact-2 = If talking with a trained peer would help, you can ask at any time. If you would rather not hear from us again about this event, say so with one tap on the page this link opens.
email-referral-subject = Someone you work with is thinking of you
email-referral-1 = A colleague let your support program know they were thinking of you, and asked us to reach out.
email-referral-2 = If talking with a trained peer would help, it is confidential and there is no pressure. You can also tell us not to contact you about this again.
email-handoff-subject = A colleague has been referred to your program
email-handoff-1 = The peer support program at { $institution } has referred a member of staff to your program. Open the link to see what they agreed to share with you and to acknowledge the referral.
email-handoff-open = See the referral and acknowledge it
email-offer-subject = You have a new request for support
email-offer-1 = You have a new request for support — sign in to view it.
email-match-accepted-subject = A peer supporter will contact you
email-match-accepted-1 = A trained peer supporter has accepted your request and will contact you soon. Sign in to view it.
email-follow-up-due-subject = A follow-up check-in is due
email-follow-up-due-1 = A follow-up check-in is due. Sign in to view it.
email-sla-breach-subject = A support request missed its target
email-sla-breach-1 = A support request has passed its { $clock } target. Sign in to view the queue.
email-clock-acknowledgement = acknowledgement
email-clock-first-contact = first contact
email-clock-response = response
email-crisis-alert-subject = Crisis support requested: act now
email-crisis-alert-1 = Someone has asked for crisis support. Sign in now to view the request.
email-introduction-subject = A peer at another institution would like to talk
email-introduction-1 = A colleague at another institution in your federation has asked to talk with a peer like you. Sign in to view the introduction and accept or decline it.
email-introduction-answered-subject = Your introduction has an answer
email-introduction-lapsed-subject = No answer yet: you can choose another peer
email-introduction-lapsed-1 = The peer supporter at another institution has not answered in a day. Sign in to choose someone else; your request is still open.
email-introduction-answered-1 = The peer supporter at another institution has answered your introduction. Sign in to view it.
email-check-in-subject = Checking in from your peer support program
email-check-in-1 = Your peer support program is checking in, as it does with everyone it supports. If you would like to talk again, with the same peer or with someone new, sign in. Nothing is needed otherwise.
email-survey-subject = How was your support? (anonymous, 2 minutes)
email-survey-1 = Your support request is closed. If you would like to tell us how it went, this short survey is anonymous: your answers cannot be linked to you. It works once.
email-training-expiry-subject = Your peer supporter training is expiring
email-training-expiry-1 = Your peer supporter training expires on { $date }. Renew it to keep being matched with colleagues who ask for support.
email-sign-in-link-subject = Your sign-in link
email-sign-in-link-1 = Use this link within 15 minutes to sign in. It works once.
email-sign-in-link-2 = If you did not ask to sign in, ignore this email.

## Text messages: one short sentence and a link. No name, nothing about a case.
text-any = { $institution }: something needs you. { $link }
text-offer = { $institution }: a colleague is waiting for a peer supporter. Answer within minutes: { $link }
text-crisis-alert = { $institution }: a crisis support request needs you now. Tap to acknowledge: { $link }
text-sla-breach = { $institution }: a support request missed its target. Tap to acknowledge: { $link }
text-outreach = { $institution }: after a recent event at work, peer support is here if you want it: { $link }
text-recontact = { $institution }: still here if you want to talk after the recent event at work: { $link }
text-referral = { $institution }: a colleague is thinking of you. Peer support is here if you want it: { $link }
text-handoff = { $institution }: a member of staff has been referred to your program. See it and acknowledge: { $link }
email-acknowledge = I'm on it: acknowledge
email-clock-urgent-outreach = urgent outreach
