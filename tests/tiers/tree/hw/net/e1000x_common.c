/* helpers of the e1000 cards: no QOM type here */
