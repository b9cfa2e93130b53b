# The guidance cards that ship with Alongside, as a clinician reads them in the library. Their
# titles and bodies are read from here in the reader's language; tags stay as they are.

card-licence = Part of Alongside; free to use and adapt

card-safe-to-talk-title = What you can safely talk about with a peer
card-safe-to-talk-summary = Talk about how you feel. Keep the facts of the case for privileged settings.
card-safe-to-talk-body =
    A peer supporter is there for you, not for the case. It is safe, and it helps, to talk about how you are feeling: shock, guilt, anger, fear, trouble sleeping, doubting yourself, worrying about your job or your licence.

    Keep out of peer conversations: what exactly happened, who did what, the patient's details, and your opinions about what went wrong or who is to blame. Those belong in privileged settings — with legal counsel, in formal peer review, with a licensed mental-health professional or with clergy — where the law protects them.

    If you are not sure, say so: your peer will help you keep to feelings, not facts.

card-protected-here-title = Where your conversations are protected here
card-protected-here-summary = Which settings are privileged where you work, and what that means for peer support.
# Filled in when the card is read, from the institution's name, its jurisdiction and its
# programs marked as privileged.
card-protected-here-body =
    Which conversations are protected depends on where you work. { $institution } is in { $jurisdiction }. { $services }

    Protection usually covers conversations with legal counsel, formal peer review, licensed mental-health professionals and clergy, and varies by jurisdiction. A peer supporter is a colleague, not a privileged confidant: share feelings, not facts.
card-protected-here-none = Your program has not marked any of its services as privileged yet. Until it does, keep case details out of every support conversation and ask your risk management or legal office where they can be discussed.
card-protected-here-some = At { $institution }, these services are marked as privileged: { $programs }. Case details may be discussed there; in peer support, talk about how you feel.

card-what-alongside-keeps-title = What Alongside keeps and what it never stores
card-what-alongside-keeps-summary = No account of what happened, no notes of what you said, and your identity removed after your case ends.
card-what-alongside-keeps-body =
    Alongside never stores a narrative of an event, notes of your conversations, or anything that identifies a patient. It keeps what it needs to connect you with support: your request, your preferences, when contact happened and how long it took, and the follow-ups you agreed to.

    Coordinators see only the status of your request unless you choose to share more. Peer supporters see your preferred name, your profession and how you like to be contacted. Every look at your request is recorded in an audit log.

    When your case has ended, your identifiable data is removed after a set period (90 days by default); only anonymous counts remain, to show the program is working. Nothing that identifies you is shared with other hospitals unless you choose to share it.
